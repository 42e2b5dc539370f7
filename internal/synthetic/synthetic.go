// Package synthetic generates a realistic district for load tests and benchmarks
// (`xinqiao seed synthetic`): schools of every stage with grades, homerooms, counselors
// and leaders, students, case files with risk tiers, counseling sessions with seasonal
// counts and sealed notes, and screening assessments with bands. Everything is drawn
// from one seeded generator, so the same flags give the same district (ids, names,
// dates, counts, categories); only ciphertexts differ, because keys and nonces are
// fresh. Rows go in with COPY; free text is sealed with the same keys, formats and
// bindings as the services use (internal/keyring), so reads decrypt like real data.
package synthetic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/identity"
	"github.com/xinqiao/xinqiao/internal/keyring"
)

// Options size the district.
type Options struct {
	Schools      int
	Students     int
	Sessions     int
	Assessments  int
	Seed         uint64
	CaseFileRate float64   // share of students with a case file (default 0.2)
	Until        time.Time // last day of data (default DefaultUntil); the data spans the year before
	Code         string    // district code (default "synthetic")
	Password     string    // every generated user's password (default Password)
	Progress     io.Writer // progress bar (stderr); nil: none
}

// Password is the default password of generated users.
const Password = "xinqiao-synthetic"

// DefaultUntil anchors the data so that the same flags give the same district.
var DefaultUntil = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// Summary is what was generated; Users names the logins the benchmarks use.
type Summary struct {
	DistrictID  uuid.UUID `json:"district_id"`
	Schools     int       `json:"schools"`
	Students    int       `json:"students"`
	Counselors  int       `json:"counselors"`
	CaseFiles   int       `json:"case_files"`
	Sessions    int       `json:"sessions"`
	Assessments int       `json:"assessments"`
	TierChanges int       `json:"tier_changes"`
	// FirstSchool is the largest school; its first counselor and leader log in as
	// FirstCounselor / FirstLeader. Admin and Researcher are district logins.
	FirstSchool    uuid.UUID `json:"first_school"`
	FirstCounselor string    `json:"first_counselor"`
	FirstLeader    string    `json:"first_leader"`
	Admin          string    `json:"admin"`
	Researcher     string    `json:"researcher"`
	Password       string    `json:"password"`
	Elapsed        string    `json:"elapsed"`
}

// Ring is the keyring part the loader needs.
type Ring interface {
	NewSchoolKey(school uuid.UUID, version int) (key []byte, masterID string, wrapped []byte, err error)
}

var shanghai = time.FixedZone("CST", 8*3600)

type school struct {
	id         uuid.UUID
	code, name string
	kind       string // k12 | vocational
	stage      string // primary | junior | senior | vocational
	students   int
	grades     []orgUnit
	homerooms  []orgUnit
	counselors []uuid.UUID
	leader     uuid.UUID
	key        []byte // the school data key (version 1) and its wrapped form
	master     string
	wrapped    []byte
}

type orgUnit struct {
	id, parent uuid.UUID
	name       string
	kind       string
	pos        int
	grade      int // index into the school's grades (homerooms)
}

type student struct {
	school int32
	grade  int16
	id     uuid.UUID
}

type caseFile struct {
	student   int32
	id        uuid.UUID
	counselor uuid.UUID
	tier      string
	status    string
	first     int64 // unix seconds of the first and last session (0: none)
	last      int64
	key       []byte
	sessions  int32
}

// gen carries the generator state.
type gen struct {
	o        Options
	r        *rand.Rand
	district uuid.UUID
	schools  []school
	students []student
	files    []caseFile
	days     []time.Time // school days in the span, with cumulative weights
	dayCum   []float64
	prog     *progress

	sessionFile []int32 // per session: index into files
	sessionAt   []int64 // per session: unix seconds
	fileIndex   map[uuid.UUID]int
}

func (g *gen) uuid() uuid.UUID {
	var u uuid.UUID
	a, b := g.r.Uint64(), g.r.Uint64()
	for i := 0; i < 8; i++ {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}

func pick[T any](r *rand.Rand, xs []T, weights []float64) T {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return xs[i]
		}
		x -= w
	}
	return xs[len(xs)-1]
}

// Generate loads the district through conn (the owner role: it lifts FORCE ROW LEVEL
// SECURITY and the user triggers of each table only inside the transaction that loads
// it, so no other session ever sees the table without them).
func Generate(ctx context.Context, conn *pgx.Conn, ring Ring, o Options) (Summary, error) {
	start := time.Now()
	if o.Schools < 1 || o.Students < o.Schools || o.Sessions < 0 || o.Assessments < 0 {
		return Summary{}, fmt.Errorf("synthetic: need at least one school, a student per school, and no negative counts")
	}
	if o.CaseFileRate <= 0 || o.CaseFileRate > 1 {
		o.CaseFileRate = 0.2
	}
	if o.Until.IsZero() {
		o.Until = DefaultUntil
	}
	if o.Code == "" {
		o.Code = "synthetic"
	}
	if o.Password == "" {
		o.Password = Password
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'districts')`).Scan(&exists); err != nil || !exists {
		return Summary{}, fmt.Errorf("synthetic: the database is not migrated (run xinqiao migrate): %v", err)
	}
	g := &gen{o: o, r: rand.New(rand.NewPCG(o.Seed, 0x5eed_c0de)), prog: newProgress(o.Progress)}
	g.district = g.uuid()
	g.layout()
	g.calendar()
	hash, err := identity.HashPassword(o.Password)
	if err != nil {
		return Summary{}, err
	}
	for i := range g.schools {
		s := &g.schools[i]
		if s.key, s.master, s.wrapped, err = ring.NewSchoolKey(s.id, 1); err != nil {
			return Summary{}, err
		}
	}
	sum := Summary{DistrictID: g.district, Schools: len(g.schools), Students: len(g.students), Password: o.Password,
		FirstSchool: g.schools[0].id, FirstCounselor: g.username(0, "c1"), FirstLeader: g.username(0, "leader"),
		Admin: o.Code + ".admin", Researcher: o.Code + ".researcher"}
	steps := []struct {
		name string
		fn   func(context.Context, *pgx.Conn) (int, error)
	}{
		{"district", func(ctx context.Context, c *pgx.Conn) (int, error) { return g.loadDistrict(ctx, c, hash) }},
		{"students", g.loadStudents},
		{"case files", g.loadCaseFiles},
		{"sessions", g.loadSessions},
		{"assessments", g.loadAssessments},
	}
	for _, s := range steps {
		n, err := s.fn(ctx, conn)
		if err != nil {
			g.prog.done()
			return sum, fmt.Errorf("synthetic %s: %w", s.name, err)
		}
		switch s.name {
		case "district":
			sum.Counselors = n
		case "case files":
			sum.CaseFiles = len(g.files)
			sum.TierChanges = n
		case "sessions":
			sum.Sessions = n
		case "assessments":
			sum.Assessments = n
		}
	}
	g.prog.label("analyze", 0, 0)
	if _, err := conn.Exec(ctx, `ANALYZE`); err != nil {
		return sum, err
	}
	g.prog.done()
	sum.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return sum, nil
}

func (g *gen) username(school int, role string) string {
	return fmt.Sprintf("%s.s%03d.%s", g.o.Code, school+1, role)
}

var (
	stages       = []string{"primary", "junior", "senior", "vocational"}
	stageWeights = []float64{0.50, 0.28, 0.17, 0.05}
	gradeNames   = map[string][]string{
		"primary":    {"一年级", "二年级", "三年级", "四年级", "五年级", "六年级"},
		"junior":     {"七年级", "八年级", "九年级"},
		"senior":     {"高一", "高二", "高三"},
		"vocational": {"计算机应用", "护理", "机电技术"},
	}
	firstAge = map[string]int{"primary": 7, "junior": 13, "senior": 16, "vocational": 16}
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩然子涵梓轩欣怡诗雨思博文一诺嘉佳琪晨阳可馨雅宁安泽睿俊熙晓峰婷雪慧颖")
	cities   = []string{"东湖", "西山", "南江", "北城", "青山", "白沙", "金桥", "银河", "红星", "新华", "光明", "育才", "实验", "朝阳", "滨江", "云台"}
)

// layout draws schools, their org trees, staff and students.
func (g *gen) layout() {
	r := g.r
	n := g.o.Schools
	weights := make([]float64, n)
	total := 0.0
	for i := range weights {
		weights[i] = math.Exp(r.NormFloat64() * 0.45)
		total += weights[i]
	}
	// The largest school first: benchmarks log in there.
	sort.Sort(sort.Reverse(sort.Float64Slice(weights)))
	counts := make([]int, n)
	left := g.o.Students
	for i := range counts {
		counts[i] = max(1, int(float64(g.o.Students)*weights[i]/total))
		left -= counts[i]
	}
	for i := 0; left != 0; i = (i + 1) % n {
		if left > 0 {
			counts[i]++
			left--
		} else if counts[i] > 1 {
			counts[i]--
			left++
		}
	}
	g.schools = make([]school, n)
	g.students = make([]student, 0, g.o.Students)
	for i := range g.schools {
		s := &g.schools[i]
		s.id = g.uuid()
		s.stage = pick(r, stages, stageWeights)
		if i == 0 && s.stage == "primary" {
			s.stage = "junior" // the benchmark school screens and counsels teenagers
		}
		s.kind = "k12"
		if s.stage == "vocational" {
			s.kind = "vocational"
		}
		suffix := map[string]string{"primary": "小学", "junior": "中学", "senior": "高级中学", "vocational": "职业技术学校"}[s.stage]
		s.name = fmt.Sprintf("%s第%d%s", cities[i%len(cities)], i/len(cities)+1, suffix)
		s.code = fmt.Sprintf("s%03d", i+1)
		s.students = counts[i]
		names := gradeNames[s.stage]
		// Older grades are a little smaller (transfers, drop-outs in vocational schools).
		gw := make([]float64, len(names))
		for k := range gw {
			gw[k] = 1.0 - 0.03*float64(k) + 0.05*r.Float64()
		}
		per := distribute(counts[i], gw)
		for k, name := range names {
			kind := "grade"
			if s.stage == "vocational" {
				kind = "department"
			}
			gid := g.uuid()
			s.grades = append(s.grades, orgUnit{id: gid, name: name, kind: kind, pos: k + 1, grade: k})
			rooms := max(1, (per[k]+44)/45)
			for h := 0; h < rooms; h++ {
				s.homerooms = append(s.homerooms, orgUnit{id: g.uuid(), parent: gid, name: fmt.Sprintf("%s(%d)班", name, h+1), kind: "homeroom", pos: h + 1, grade: k})
			}
			for j := 0; j < per[k]; j++ {
				g.students = append(g.students, student{school: int32(i), grade: int16(k), id: g.uuid()})
			}
		}
		// About one counselor per 1,000 students (the national guideline), 1 to 6.
		nc := min(6, max(1, (counts[i]+500)/1000))
		for c := 0; c < nc; c++ {
			s.counselors = append(s.counselors, g.uuid())
		}
		s.leader = g.uuid()
	}
}

// distribute splits n by weights exactly (largest remainder).
func distribute(n int, w []float64) []int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	out := make([]int, len(w))
	rem := make([]float64, len(w))
	left := n
	for i, x := range w {
		f := float64(n) * x / total
		out[i] = int(f)
		rem[i] = f - float64(out[i])
		left -= out[i]
	}
	for left > 0 {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		out[best]++
		rem[best] = -1
		left--
	}
	return out
}

// Seasonal weight of counseling work per month (Chinese school year: autumn term from
// September, winter holiday around the Spring Festival, spring term from late February,
// summer holiday in July and August; peaks before exams).
var monthWeight = [13]float64{0, 0.7, 0.3, 1.1, 1.3, 1.4, 1.1, 0.25, 0.1, 1.0, 1.05, 1.3, 1.25}

// calendar lists the days of the span with their weights (weekdays, seasons, the
// National Day week).
func (g *gen) calendar() {
	end := g.o.Until
	day := end.AddDate(-1, 0, 1)
	acc := 0.0
	for ; !day.After(end); day = day.AddDate(0, 0, 1) {
		w := monthWeight[day.Month()]
		switch day.Weekday() {
		case time.Saturday:
			w *= 0.08
		case time.Sunday:
			w *= 0.03
		}
		if day.Month() == time.October && day.Day() <= 7 {
			w *= 0.05
		}
		acc += w
		g.days = append(g.days, day)
		g.dayCum = append(g.dayCum, acc)
	}
}

// moment draws a time of counseling work: a weighted day, 8:00–17:30 in China.
func (g *gen) moment(r *rand.Rand) time.Time {
	x := r.Float64() * g.dayCum[len(g.dayCum)-1]
	i := sort.SearchFloat64s(g.dayCum, x)
	d := g.days[min(i, len(g.days)-1)]
	mins := 8*60 + r.IntN(9*60+30)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, mins, 0, 0, shanghai).UTC()
}

func (g *gen) name(r *rand.Rand) string {
	n := string(surnames[r.IntN(len(surnames))]) + string(given[r.IntN(len(given))])
	if r.IntN(10) < 7 {
		n += string(given[r.IntN(len(given))])
	}
	return n
}

// load copies rows into table in a transaction that lifts FORCE ROW LEVEL SECURITY and
// (unless keepTriggers) the table's user triggers for its duration only.
func load(ctx context.Context, conn *pgx.Conn, table string, cols []string, src pgx.CopyFromSource, keepTriggers bool) (int64, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	id := pgx.Identifier{table}.Sanitize()
	pre := []string{`ALTER TABLE ` + id + ` NO FORCE ROW LEVEL SECURITY`}
	post := []string{`ALTER TABLE ` + id + ` FORCE ROW LEVEL SECURITY`}
	if !keepTriggers {
		pre = append(pre, `ALTER TABLE `+id+` DISABLE TRIGGER USER`)
		post = append(post, `ALTER TABLE `+id+` ENABLE TRIGGER USER`)
	}
	for _, q := range pre {
		if _, err := tx.Exec(ctx, q); err != nil {
			return 0, err
		}
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
	if err != nil {
		return n, err
	}
	for _, q := range post {
		if _, err := tx.Exec(ctx, q); err != nil {
			return n, err
		}
	}
	return n, tx.Commit(ctx)
}

// rowsOf is a CopyFromSource over a generator function.
type rowsOf struct {
	next func() ([]any, bool, error)
	row  []any
	err  error
}

func (s *rowsOf) Next() bool {
	var ok bool
	s.row, ok, s.err = s.next()
	return ok && s.err == nil
}
func (s *rowsOf) Values() ([]any, error) { return s.row, s.err }
func (s *rowsOf) Err() error             { return s.err }

func rows(list [][]any) pgx.CopyFromSource { return pgx.CopyFromRows(list) }

func (g *gen) loadDistrict(ctx context.Context, conn *pgx.Conn, hash string) (int, error) {
	g.prog.label("district", 0, 0)
	created := g.o.Until.Add(-400 * 24 * time.Hour)
	if _, err := load(ctx, conn, "districts", []string{"id", "name", "code", "created_at"},
		rows([][]any{{g.district, "合成区（基准）", g.o.Code, created}}), true); err != nil {
		return 0, err
	}
	// The synthetic users have no second factor: password logins, like the demo district
	// (without this row MFA is required of counselors and leaders, migration 00052, and
	// every benchmarked request would be refused as "MFA enrolment required").
	if _, err := load(ctx, conn, "district_security_settings", []string{"district_id", "mfa_required"},
		rows([][]any{{g.district, false}}), true); err != nil {
		return 0, err
	}
	var schools, orgs, keys, users, members [][]any
	for i, s := range g.schools {
		schools = append(schools, []any{s.id, g.district, s.name, s.code, s.kind, created})
		for _, u := range s.grades {
			orgs = append(orgs, []any{s.id, u.id, g.district, nil, u.kind, u.name, u.pos, created})
		}
		for _, u := range s.homerooms {
			orgs = append(orgs, []any{s.id, u.id, g.district, u.parent, u.kind, u.name, u.pos, created})
		}
		keys = append(keys, []any{s.id, 1, s.master, s.wrapped, created})
		for c, id := range s.counselors {
			users = append(users, []any{id, g.district, g.username(i, fmt.Sprintf("c%d", c+1)), g.name(g.r) + "（心理教师）", hash, created})
			members = append(members, []any{g.uuid(), id, g.district, "school", s.id, "counselor", created})
		}
		users = append(users, []any{s.leader, g.district, g.username(i, "leader"), g.name(g.r) + "（校领导）", hash, created})
		members = append(members, []any{g.uuid(), s.leader, g.district, "school", s.id, "school_leader", created})
	}
	for _, role := range []struct{ user, role, display string }{
		{g.o.Code + ".admin", "district_admin", "区管理员"}, {g.o.Code + ".supervisor", "district_supervisor", "区督导"},
		{g.o.Code + ".researcher", "researcher", "研究员"}} {
		id := g.uuid()
		users = append(users, []any{id, g.district, role.user, role.display, hash, created})
		members = append(members, []any{g.uuid(), id, g.district, "district", nil, role.role, created})
	}
	for _, t := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"schools", []string{"id", "district_id", "name", "code", "kind", "created_at"}, schools},
		{"org_units", []string{"school_id", "id", "district_id", "parent_id", "kind", "name", "position", "created_at"}, orgs},
		{"school_data_keys", []string{"school_id", "version", "master_key_id", "wrapped", "created_at"}, keys},
		{"users", []string{"id", "district_id", "username", "display_name", "password_hash", "created_at"}, users},
		{"memberships", []string{"id", "user_id", "district_id", "scope_type", "school_id", "role", "created_at"}, members},
	} {
		// Grades before homerooms: the parent foreign key is checked row by row.
		if _, err := load(ctx, conn, t.table, t.cols, rows(t.rows), false); err != nil {
			return 0, fmt.Errorf("%s: %w", t.table, err)
		}
	}
	return len(members) - len(g.schools) - 3, nil
}

func (g *gen) loadStudents(ctx context.Context, conn *pgx.Conn) (int, error) {
	r := g.r
	i := 0
	g.prog.label("students", 0, len(g.students))
	seq := make([]int, len(g.schools))
	roomOf := func(s *school, grade int) uuid.UUID {
		var rooms []uuid.UUID
		for _, h := range s.homerooms {
			if h.grade == grade {
				rooms = append(rooms, h.id)
			}
		}
		return rooms[r.IntN(len(rooms))]
	}
	year := g.o.Until.Year()
	if g.o.Until.Month() < time.September {
		year--
	}
	src := &rowsOf{next: func() ([]any, bool, error) {
		if i >= len(g.students) {
			return nil, false, nil
		}
		st := g.students[i]
		i++
		g.prog.add(1)
		s := &g.schools[st.school]
		seq[st.school]++
		gender := "male"
		if r.Float64() < 0.48 {
			gender = "female"
		}
		age := firstAge[s.stage] + int(st.grade)
		birth := time.Date(year-age, time.September, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -r.IntN(365))
		guardians := fmt.Sprintf(`[{"name":"%s","relation":"%s","phone":"1%02d%08d"}]`, g.name(r), pick(r, []string{"母亲", "父亲", "祖父母"}, []float64{0.55, 0.35, 0.1}), 30+r.IntN(60), r.IntN(100000000))
		return []any{s.id, st.id, fmt.Sprintf("%d%05d", year-int(st.grade), seq[st.school]), g.name(r), gender, birth,
			s.grades[st.grade].id, roomOf(s, int(st.grade)), guardians}, true, nil
	}}
	n, err := load(ctx, conn, "students", []string{"school_id", "id", "student_number", "name", "gender", "birth_date", "grade_id", "homeroom_id", "guardians"}, src, false)
	return int(n), err
}

var (
	tiers       = []string{"none", "watch", "elevated", "high", "crisis"}
	tierWeights = []float64{0.50, 0.25, 0.15, 0.07, 0.03}
	tierLoad    = map[string]float64{"none": 1, "watch": 2, "elevated": 3.5, "high": 6, "crisis": 9}
)

// loadCaseFiles draws case files (more likely in junior and senior grades), the sessions'
// times (so each file opens before its first session), the tier changes and file keys.
func (g *gen) loadCaseFiles(ctx context.Context, conn *pgx.Conn) (int, error) {
	r := g.r
	rate := map[string]float64{"primary": 0.6, "junior": 1.25, "senior": 1.3, "vocational": 1.2}
	for i, st := range g.students {
		s := &g.schools[st.school]
		if r.Float64() < g.o.CaseFileRate*rate[s.stage] {
			g.files = append(g.files, caseFile{student: int32(i), id: g.uuid(), counselor: s.counselors[r.IntN(len(s.counselors))],
				tier: pick(r, tiers, tierWeights), status: pick(r, []string{"open", "monitoring", "closed"}, []float64{0.6, 0.25, 0.15})})
		}
	}
	if len(g.files) == 0 && len(g.students) > 0 {
		s := &g.schools[g.students[0].school]
		g.files = append(g.files, caseFile{student: 0, id: g.uuid(), counselor: s.counselors[0], tier: "watch", status: "open"})
	}
	// Sessions per file: heavier for higher tiers; the times come with them.
	cum := make([]float64, len(g.files))
	acc := 0.0
	for i, f := range g.files {
		acc += tierLoad[f.tier] * (0.3 + r.ExpFloat64())
		cum[i] = acc
	}
	g.sessionFile = make([]int32, g.o.Sessions)
	g.sessionAt = make([]int64, g.o.Sessions)
	for k := 0; k < g.o.Sessions; k++ {
		i := min(sort.SearchFloat64s(cum, r.Float64()*acc), len(g.files)-1)
		at := g.moment(r).Unix()
		g.sessionFile[k], g.sessionAt[k] = int32(i), at
		f := &g.files[i]
		f.sessions++
		if f.first == 0 || at < f.first {
			f.first = at
		}
		if at > f.last {
			f.last = at
		}
	}
	g.prog.label("case files", 0, len(g.files))
	var changes [][]any
	i := 0
	src := &rowsOf{next: func() ([]any, bool, error) {
		if i >= len(g.files) {
			return nil, false, nil
		}
		f := &g.files[i]
		i++
		g.prog.add(1)
		st := g.students[f.student]
		s := &g.schools[st.school]
		opened := g.moment(r)
		if f.first != 0 {
			opened = time.Unix(f.first, 0).UTC().Add(-time.Duration(r.IntN(14*24*60)) * time.Minute)
		}
		var last *time.Time
		if f.last != 0 {
			t := time.Unix(f.last, 0).UTC().Add(50 * time.Minute)
			last = &t
		}
		if f.tier != "none" {
			changes = append(changes, []any{s.id, g.uuid(), f.id, "none", f.tier, nil, f.counselor, opened.Add(time.Duration(1+r.IntN(72)) * time.Hour)})
		}
		return []any{s.id, f.id, st.id, f.status, opened, f.counselor, opened, f.tier, last}, true, nil
	}}
	if _, err := load(ctx, conn, "case_files", []string{"school_id", "id", "student_id", "status", "opened_at", "opened_by", "updated_at", "risk_tier", "last_contact_at"}, src, false); err != nil {
		return 0, err
	}
	i = 0
	g.prog.label("counselors", 0, 0)
	if _, err := load(ctx, conn, "case_file_counselors", []string{"school_id", "case_file_id", "user_id"}, &rowsOf{next: func() ([]any, bool, error) {
		if i >= len(g.files) {
			return nil, false, nil
		}
		f := &g.files[i]
		i++
		return []any{g.schools[g.students[f.student].school].id, f.id, f.counselor}, true, nil
	}}, false); err != nil {
		return 0, err
	}
	// Each file's own key, wrapped by its school's key (crypto-shredding unit).
	i = 0
	g.prog.label("file keys", 0, len(g.files))
	if _, err := load(ctx, conn, "case_file_keys", []string{"school_id", "case_file_id", "school_key_version", "wrapped"}, &rowsOf{next: func() ([]any, bool, error) {
		if i >= len(g.files) {
			return nil, false, nil
		}
		f := &g.files[i]
		i++
		g.prog.add(1)
		s := &g.schools[g.students[f.student].school]
		key, wrapped, err := keyring.NewFileKey(s.key, s.id, f.id, 1)
		f.key = key
		return []any{s.id, f.id, 1, wrapped}, err == nil, err
	}}, false); err != nil {
		return 0, err
	}
	// Tier change reasons are sealed with the file's key.
	for _, c := range changes {
		f := g.fileByID(c[2].(uuid.UUID))
		sealed, err := keyring.SealFile(f.key, c[0].(uuid.UUID), f.id, "risk_tier.reason", []byte(tierReasons[r.IntN(len(tierReasons))]))
		if err != nil {
			return 0, err
		}
		c[5] = sealed
	}
	g.prog.label("tier changes", 0, 0)
	n, err := load(ctx, conn, "risk_tier_changes", []string{"school_id", "id", "case_file_id", "from_tier", "to_tier", "reason", "changed_by", "changed_at"}, rows(changes), false)
	return int(n), err
}

func (g *gen) fileByID(id uuid.UUID) *caseFile {
	if g.fileIndex == nil {
		g.fileIndex = make(map[uuid.UUID]int, len(g.files))
		for i, f := range g.files {
			g.fileIndex[f.id] = i
		}
	}
	return &g.files[g.fileIndex[id]]
}

var tierReasons = []string{"筛查结果偏高，班主任反映近期情绪低落", "多次主动来访，自述睡眠差、食欲下降", "家庭变故后出现退缩行为", "同伴冲突后情绪波动明显", "有自伤念头的表述，已联系家长", "近期状态稳定，继续观察"}

var (
	channels       = []string{"scheduled", "walk_in", "online", "phone", "mailbox", "letter"}
	channelWeights = []float64{0.45, 0.30, 0.08, 0.07, 0.06, 0.04}
	initiators     = []string{"self", "teacher", "counselor", "guardian", "screening"}
	initWeights    = []float64{0.35, 0.25, 0.20, 0.10, 0.10}
	categories     = []string{"learning", "interpersonal", "emotion", "family", "adolescence", "career", "self_harm_risk", "other"}
	catWeights     = []float64{0.25, 0.20, 0.22, 0.12, 0.08, 0.06, 0.03, 0.04}
	summaryParts   = [][]string{
		{"学生主诉", "本次来访学生谈到", "学生表示", "班主任转介后学生谈到"},
		{"近期考试压力大，晚上难以入睡", "与同桌发生矛盾，感到被孤立", "父母经常争吵，回家不想说话", "对未来选科感到迷茫", "上课注意力难以集中，成绩下滑", "和好朋友疏远后情绪低落", "对自己的外貌不满意，比较在意别人的评价", "周末沉迷手机游戏，与家长冲突"},
		{"，咨询中进行了情绪疏导和放松训练。", "，一起梳理了压力来源并制定了小目标。", "，练习了沟通表达的方法。", "，约定下周继续跟进。", "，评估自伤风险为低，已告知保密例外。"},
	}
	nextSteps = []string{"下周同一时间继续咨询", "与班主任沟通课堂表现", "邀请家长来校面谈", "布置情绪日记作业", "两周后复评 PHQ-9"}
	noteParts = []string{"来访者情绪较上次平稳，能主动表达感受。", "咨询关系良好，来访者对放松训练接受度高。", "注意到来访者回避谈及家庭话题，下次可温和探索。", "认知上存在“全或无”的思维模式，已做初步澄清。", "来访者表示睡眠有所改善，每晚约七小时。", "需关注期中考试前后的情绪变化。"}
)

func (g *gen) text(r *rand.Rand, parts [][]string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p[r.IntN(len(p))])
	}
	return b.String()
}

func (g *gen) loadSessions(ctx context.Context, conn *pgx.Conn) (int, error) {
	r := g.r
	k := 0
	g.prog.label("sessions", 0, g.o.Sessions)
	cutoff := g.o.Until.Add(-24 * time.Hour)
	src := &rowsOf{next: func() ([]any, bool, error) {
		if k >= g.o.Sessions {
			return nil, false, nil
		}
		f := &g.files[g.sessionFile[k]]
		at := time.Unix(g.sessionAt[k], 0).UTC()
		k++
		g.prog.add(1)
		s := &g.schools[g.students[f.student].school]
		cats := []string{pick(r, categories, catWeights)}
		if f.tier == "high" || f.tier == "crisis" {
			if r.Float64() < 0.3 {
				cats[0] = "self_harm_risk"
			}
		}
		if r.Float64() < 0.35 {
			if c := pick(r, categories, catWeights); c != cats[0] {
				cats = append(cats, c)
			}
		}
		participants := []string{"student"}
		switch x := r.Float64(); {
		case x < 0.10:
			participants = append(participants, "guardian")
		case x < 0.15:
			participants = []string{"teacher"}
		}
		duration := min(120, max(10, int(40+r.NormFloat64()*12)))
		seal := func(purpose, text string) (any, error) {
			if text == "" {
				return nil, nil
			}
			return keyring.SealFile(f.key, s.id, f.id, purpose, []byte(text))
		}
		summary, err := seal("session.summary", g.text(r, summaryParts))
		if err != nil {
			return nil, false, err
		}
		var next, note, private any
		if r.Float64() < 0.6 {
			if next, err = seal("session.next_steps", nextSteps[r.IntN(len(nextSteps))]); err != nil {
				return nil, false, err
			}
		}
		if r.Float64() < 0.7 {
			var b strings.Builder
			for j, m := 0, 2+r.IntN(4); j < m; j++ {
				b.WriteString(noteParts[r.IntN(len(noteParts))])
			}
			if note, err = seal("session.note", b.String()); err != nil {
				return nil, false, err
			}
		}
		var author any
		if r.Float64() < 0.1 {
			if private, err = seal("session.private_note", "个人过程记录："+noteParts[r.IntN(len(noteParts))]); err != nil {
				return nil, false, err
			}
			author = f.counselor
		}
		created := at.Add(time.Duration(duration+r.IntN(120)) * time.Minute)
		var signedAt, signedBy any
		if created.Before(cutoff) {
			signedAt, signedBy = created.Add(time.Duration(r.IntN(24*60))*time.Minute), f.counselor
		}
		return []any{s.id, g.uuid(), f.id, at, pick(r, channels, channelWeights), participants, pick(r, initiators, initWeights), cats, duration,
			summary, next, note, signedAt, signedBy, private, author, f.counselor, created}, true, nil
	}}
	n, err := load(ctx, conn, "counseling_sessions", []string{"school_id", "id", "case_file_id", "occurred_at", "channel", "participants", "initiated_by",
		"categories", "duration_minutes", "summary", "next_steps", "note", "note_signed_at", "note_signed_by", "private_note", "private_note_author",
		"created_by", "created_at"}, src, false)
	g.sessionFile, g.sessionAt = nil, nil
	return int(n), err
}

type instrument struct {
	id, code, md5 string
	items         int
	bands         []band
	critical      string // item whose answer ≥ 1 is critical
}

type band struct {
	code     string
	min, max int
}

// Screening totals: most students score low; a tail screens positive.
var totalBands = []float64{0.68, 0.19, 0.08, 0.035, 0.015}

func (g *gen) loadAssessments(ctx context.Context, conn *pgx.Conn) (int, error) {
	if g.o.Assessments == 0 {
		return 0, nil
	}
	r := g.r
	var ins []instrument
	rs, err := conn.Query(ctx, `SELECT id::text, code, md5(definition::text), definition FROM instruments WHERE district_id IS NULL AND code IN ('phq9', 'gad7') ORDER BY code DESC`)
	if err != nil {
		return 0, err
	}
	for rs.Next() {
		var x instrument
		var def struct {
			Items []struct {
				Code string `json:"code"`
			} `json:"items"`
			Bands []struct {
				Code string `json:"code"`
				Min  int    `json:"min"`
				Max  int    `json:"max"`
			} `json:"bands"`
			Critical []struct {
				Item string `json:"item"`
			} `json:"critical"`
		}
		var raw []byte
		if err := rs.Scan(&x.id, &x.code, &x.md5, &raw); err != nil {
			rs.Close()
			return 0, err
		}
		if err := json.Unmarshal(raw, &def); err != nil {
			rs.Close()
			return 0, err
		}
		x.items = len(def.Items)
		for _, b := range def.Bands {
			x.bands = append(x.bands, band{b.Code, b.Min, b.Max})
		}
		if len(def.Critical) > 0 {
			x.critical = def.Critical[0].Item
		}
		ins = append(ins, x)
	}
	rs.Close()
	if len(ins) == 0 {
		return 0, fmt.Errorf("the built-in instruments phq9 and gad7 are missing")
	}
	// Screening weeks: autumn (mid-September to October) and spring (March to mid-April).
	var windows []time.Time
	for _, d := range g.days {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		if (d.Month() == time.September && d.Day() >= 15) || d.Month() == time.October && d.Day() > 7 || d.Month() == time.March || (d.Month() == time.April && d.Day() <= 15) {
			windows = append(windows, d)
		}
	}
	// Primary grades 1–3 are not screened with self-report questionnaires.
	var eligible []int32
	for i, st := range g.students {
		if g.schools[st.school].stage != "primary" || st.grade >= 3 {
			eligible = append(eligible, int32(i))
		}
	}
	if len(eligible) == 0 {
		return 0, nil
	}
	k := 0
	g.prog.label("assessments", 0, g.o.Assessments)
	src := &rowsOf{next: func() ([]any, bool, error) {
		if k >= g.o.Assessments {
			return nil, false, nil
		}
		k++
		g.prog.add(1)
		st := g.students[eligible[r.IntN(len(eligible))]]
		s := &g.schools[st.school]
		in := ins[0]
		if len(ins) > 1 && r.Float64() < 0.4 {
			in = ins[1]
		}
		bi := min(len(in.bands)-1, pickIndex(r, totalBands))
		b := in.bands[bi]
		total := b.min + r.IntN(b.max-b.min+1)
		total = min(total, in.items*3)
		// Spread the total over the items (0–3 each).
		answers := make(map[string]int, in.items)
		left := total
		for j := 0; j < in.items; j++ {
			answers[fmt.Sprint(j+1)] = 0
		}
		for left > 0 {
			item := fmt.Sprint(1 + r.IntN(in.items))
			if answers[item] < 3 {
				answers[item]++
				left--
			}
		}
		var critical []string
		if in.critical != "" && answers[in.critical] >= 1 {
			critical = []string{in.critical}
		} else {
			critical = []string{}
		}
		raw, _ := json.Marshal(answers)
		sealed, err := keyring.SealSchool(s.key, 1, s.id, "assessment.answers", raw)
		if err != nil {
			return nil, false, err
		}
		d := windows[r.IntN(len(windows))]
		at := time.Date(d.Year(), d.Month(), d.Day(), 0, 8*60+r.IntN(9*60), 0, 0, shanghai).UTC()
		by := s.counselors[r.IntN(len(s.counselors))]
		return []any{s.id, g.uuid(), st.id, in.id, in.code, 1, in.md5, "paper", at, sealed, total, b.code, "{}", r.Float64() < 0.97, critical, by, at}, true, nil
	}}
	n, err := load(ctx, conn, "assessments", []string{"school_id", "id", "student_id", "instrument_id", "instrument_code", "instrument_version", "definition_md5",
		"source", "taken_at", "answers", "total", "band", "subscales", "valid", "critical", "recorded_by", "recorded_at"}, src, false)
	if err != nil {
		return int(n), err
	}
	_, err = conn.Exec(ctx, `UPDATE instruments SET used = true WHERE district_id IS NULL AND code IN ('phq9', 'gad7')`)
	return int(n), err
}

func pickIndex(r *rand.Rand, w []float64) int {
	x := r.Float64()
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// progress draws a bar on one terminal line.
type progress struct {
	w          io.Writer
	name       string
	n, total   int
	start, upd time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

func (p *progress) label(name string, n, total int) {
	if p.w == nil {
		return
	}
	if p.name != "" {
		p.draw(true)
	}
	p.name, p.n, p.total, p.start = name, n, total, time.Now()
	p.draw(false)
}

func (p *progress) add(d int) {
	if p.w == nil {
		return
	}
	p.n += d
	if time.Since(p.upd) > 200*time.Millisecond {
		p.draw(false)
	}
}

func (p *progress) draw(final bool) {
	p.upd = time.Now()
	el := time.Since(p.start).Round(100 * time.Millisecond)
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r%-13s %s\033[K", p.name, el)
	} else {
		frac := float64(p.n) / float64(p.total)
		bar := strings.Repeat("█", int(frac*30)) + strings.Repeat("░", 30-int(frac*30))
		rate := float64(p.n) / math.Max(time.Since(p.start).Seconds(), 1e-3)
		fmt.Fprintf(p.w, "\r%-13s %s %5.1f%% %d/%d %.0f/s %s\033[K", p.name, bar, 100*frac, p.n, p.total, rate, el)
	}
	if final {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) done() {
	if p.w != nil && p.name != "" {
		p.draw(true)
		p.name = ""
	}
}
