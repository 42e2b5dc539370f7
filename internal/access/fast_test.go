package access_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/access"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

// realRules reads the built-in rules the migrations insert into casbin_rule.
func realRules(t *testing.T) access.Lines {
	t.Helper()
	ctx := context.Background()
	db := testdb.New(t)
	conn, err := pgx.Connect(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT ptype, v0, v1, v2, v3 FROM casbin_rule ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
		var v [5]string
		err := r.Scan(&v[0], &v[1], &v[2], &v[3], &v[4])
		return v[:], err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) < 100 {
		t.Fatalf("only %d built-in rules", len(lines))
	}
	return lines
}

// compareAll checks the indexed decision against Casbin's matcher for every
// combination of subjects, domains, objects and actions.
func compareAll(t *testing.T, en *access.Enforcer, subs, doms, objs, acts []string) (allowed int) {
	t.Helper()
	for _, sub := range subs {
		for _, dom := range doms {
			for _, obj := range objs {
				for _, act := range acts {
					want := access.CasbinEnforce(en, sub, dom, obj, act)
					got, indexed := access.FastDecide(en, sub, dom, obj, act)
					if !indexed {
						t.Fatal("the policy built no index")
					}
					if got != want {
						t.Fatalf("(%s, %s, %s, %s): index says %v, Casbin %v", sub, dom, obj, act, got, want)
					}
					if want {
						allowed++
					}
				}
			}
		}
	}
	return allowed
}

// Every (role, scope, object, action) of the real policy decides the same through the
// index as through Casbin's matcher: users holding each role in a school and in a
// district (and two roles at once), asking in their own domain, another school or
// district, and malformed domains, for every object and action of the policy plus
// unknown ones.
func TestFastDecisionEqualsCasbinOnTheBuiltInPolicy(t *testing.T) {
	t.Parallel()
	lines := realRules(t)
	objs := map[string]bool{"unknown": true, "": true}
	acts := map[string]bool{"delete": true, "": true}
	for _, l := range lines {
		if l[0] == "p" {
			objs[l[3]], acts[l[4]] = true, true
		}
	}
	const s1, s2, d1, d2 = "school:11111111-1111-1111-1111-111111111111", "school:22222222-2222-2222-2222-222222222222",
		"district:33333333-3333-3333-3333-333333333333", "district:44444444-4444-4444-4444-444444444444"
	var subs []string
	for _, role := range scope.AllRoles {
		for _, dom := range []string{s1, d1} {
			sub := "user:" + role + "@" + dom
			subs = append(subs, sub)
			lines = append(lines, []string{"g", sub, role, dom})
		}
	}
	lines = append(lines, []string{"g", "user:two", scope.Counselor, s1}, []string{"g", "user:two", scope.SchoolLeader, s1},
		[]string{"g", "user:two", scope.DistrictAdmin, d1})
	subs = append(subs, "user:two", "user:none", scope.Counselor, scope.DistrictAdmin)
	en, err := access.NewEnforcerFromLines(lines)
	if err != nil {
		t.Fatal(err)
	}
	doms := []string{s1, s2, d1, d2, "school:", "district:", "school", "schools:x", "*", "school:*", "other:1"}
	allowed := compareAll(t, en, subs, doms, keys(objs), keys(acts))
	if allowed == 0 {
		t.Fatal("nothing was allowed: the comparison proves nothing")
	}
	t.Logf("%d subjects × %d domains × %d objects × %d actions, %d allowed", len(subs), len(doms), len(objs), len(acts), allowed)
}

// Random policies (domain patterns with and without '*', subjects equal to role names,
// roles granted in several domains) decide the same through the index as through
// Casbin; a policy with a role hierarchy builds no index and Casbin decides.
func TestFastDecisionEqualsCasbinOnRandomPolicies(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 10))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	roles := []string{"r1", "r2", "r3", "r4"}
	doms := []string{"school:a", "school:b", "district:a", "school:*", "district:*", "*", "sch*", "school:a*", ""}
	objs := []string{"o1", "o2", "o3"}
	acts := []string{"read", "write"}
	concrete := []string{"school:a", "school:b", "district:a", "school:", ""}
	subs := []string{"user:1", "user:2", "user:3", "r1", "r2"}
	for round := range 200 {
		var lines access.Lines
		for range 1 + r.IntN(30) {
			lines = append(lines, []string{"p", pick(roles), pick(doms), pick(objs), pick(acts)})
		}
		for range r.IntN(12) {
			lines = append(lines, []string{"g", pick(subs[:3]), pick(roles), pick(concrete)})
		}
		en, err := access.NewEnforcerFromLines(lines)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			compareAll(t, en, subs, append(doms, "school:c", "district:"), append(objs, "o4"), append(acts, "x"))
		})
	}

	for name, lines := range map[string]access.Lines{
		"role hierarchy":                      {{"p", "r1", "school:*", "o1", "read"}, {"g", "user:1", "r2", "school:a"}, {"g", "r2", "r1", "school:a"}},
		"domain pattern in a role assignment": {{"p", "r1", "school:a", "o1", "read"}, {"g", "user:1", "r1", "school:*"}},
	} {
		en, err := access.NewEnforcerFromLines(lines)
		if err != nil {
			t.Fatal(err)
		}
		if _, indexed := access.FastDecide(en, "user:1", "school:a", "o1", "read"); indexed {
			t.Fatalf("%s: Casbin must decide", name)
		}
		if !access.Decide(en, "user:1", "school:a", "o1", "read") || access.Decide(en, "user:1", "school:b", "o1", "read") {
			t.Fatalf("%s: without an index the decision is Casbin's", name)
		}
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
