package teachingcase

import (
	"strings"
	"testing"
)

func TestRedactorRemovesIdentifiersLongestFirstAndListsThem(t *testing.T) {
	r := newRedactor([]identifier{
		{"student_name", "王小明", "[学生]"}, {"student_name", "小明", "[学生]"}, {"homeroom", "七(2)班", "[班级]"},
		{"guardian_name", "李", "[家长]"}, // one character: not an identifier
	})
	cases := []struct{ in, want string }{
		{"王小明在七(2)班，小明说很累", "[学生]在[班级]，[学生]说很累"},
		{"母亲电话13912345678，2026年3月5日来访，3月12日复谈", "母亲电话[电话]，[日期]来访，[日期]复谈"},
		{"身份证110101200801011234", "身份证[证件号]"},
		{"学号 20240315", "学号 [编号]"},
		{"李老师很关心", "李老师很关心"},
	}
	for _, c := range cases {
		if got := r.clean(c.in); got != c.want {
			t.Errorf("clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	kinds := map[string]int{}
	for _, rm := range r.removals() {
		kinds[rm.Kind] += rm.Count
	}
	if kinds["student_name"] != 2 || kinds["homeroom"] != 1 || kinds["phone"] != 1 || kinds["date"] != 2 || kinds["id_number"] != 1 || kinds["number"] != 1 {
		t.Fatalf("removals: %+v", r.removals())
	}
}

func TestLeftoverFindsIdentifiersTypedBack(t *testing.T) {
	lits := []string{"王小明", "七(2)班"}
	for _, s := range []string{"回顾王小明的变化", "在七(2)班", "电话13800138000", "2025-09-01 开始"} {
		if leftover(lits, s) == "" {
			t.Errorf("missed the identifier in %q", s)
		}
	}
	if l := leftover(lits, strings.Repeat("同伴关系改善，", 3)); l != "" {
		t.Errorf("a clean text flagged: %q", l)
	}
}
