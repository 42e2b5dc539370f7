// Package access owns authorization decisions: a Casbin RBAC-with-domains enforcer whose
// policy lives in PostgreSQL (built-in rules in casbin_rule, role assignments from
// memberships), loaded through a small pgx adapter and reloaded on every instance
// within a second of a change through PostgreSQL LISTEN/NOTIFY.
package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/casbin/casbin/v2/util"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xinqiao/xinqiao/internal/scope"
)

// Model is the Casbin model: RBAC with domains. Built-in rules name a domain pattern
// ("school:*", "district:*"); role assignments name one domain.
const Model = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.obj == p.obj && r.act == p.act && keyMatch(r.dom, p.dom) && g(r.sub, p.sub, r.dom)
`

// PolicyChannel is the NOTIFY channel that triggers on memberships and casbin_rule use.
const PolicyChannel = "xinqiao_policy"

// Adapter loads Casbin policy from PostgreSQL. It is read-only: policy changes are
// made by writing memberships (or by migrations for built-in rules).
type Adapter struct {
	Pool *pgxpool.Pool
}

var _ persist.Adapter = (*Adapter)(nil)

var errReadOnly = errors.New("access: policy is changed through memberships, not through the adapter")

// LoadPolicy loads every policy line.
func (a *Adapter) LoadPolicy(m model.Model) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := a.Pool.Query(ctx, `SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_policy_lines()`)
	if err != nil {
		return fmt.Errorf("load policy: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v [7]string
		if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]); err != nil {
			return fmt.Errorf("load policy: %w", err)
		}
		rule := v[:]
		for len(rule) > 1 && rule[len(rule)-1] == "" {
			rule = rule[:len(rule)-1]
		}
		if err := persist.LoadPolicyArray(rule, m); err != nil {
			return fmt.Errorf("load policy line: %w", err)
		}
	}
	return rows.Err()
}

// SavePolicy is not supported.
func (a *Adapter) SavePolicy(model.Model) error { return errReadOnly }

// AddPolicy is not supported.
func (a *Adapter) AddPolicy(string, string, []string) error { return errReadOnly }

// RemovePolicy is not supported.
func (a *Adapter) RemovePolicy(string, string, []string) error { return errReadOnly }

// RemoveFilteredPolicy is not supported.
func (a *Adapter) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }

// Enforcer decides (actor, object, action) in the actor's domain.
type Enforcer struct {
	e   *casbin.SyncedEnforcer
	log *slog.Logger

	// Decisions are cached until the next policy load: a first decision over the policy
	// index costs a few microseconds (Casbin's matcher over every rule 60–250 µs with a
	// district's policy, docs/BENCHMARKS.md), a cached one well under a microsecond. gen rises with each load, so a decision made
	// with the old policy is never stored after it.
	mu    sync.RWMutex
	gen   uint64
	cache map[decision]bool

	// fast is the loaded policy indexed for the first decision after a load (nil when
	// the policy has a shape the index does not cover: Casbin decides then).
	fast atomic.Pointer[index]
}

type decision struct{ sub, dom, obj, act string }

// maxDecisions bounds the cache (about 200 bytes an entry); a full cache starts over.
const maxDecisions = 200_000

// NewEnforcer loads the policy from pool.
func NewEnforcer(pool *pgxpool.Pool, log *slog.Logger) (*Enforcer, error) {
	m, err := model.NewModelFromString(Model)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewSyncedEnforcer(m, &Adapter{Pool: pool})
	if err != nil {
		return nil, fmt.Errorf("casbin: %w", err)
	}
	e.EnableAutoSave(false)
	en := &Enforcer{e: e, log: log}
	en.fast.Store(buildIndex(e))
	return en, nil
}

// Allowed reports whether the actor may perform act on obj in its scope.
func (en *Enforcer) Allowed(a scope.Actor, obj, act string) bool {
	dom := a.Domain()
	if dom == "" {
		return false
	}
	key := decision{"user:" + a.UserID.String(), dom, obj, act}
	en.mu.RLock()
	ok, hit := en.cache[key]
	gen := en.gen
	en.mu.RUnlock()
	if hit {
		return ok
	}
	ok, err := en.decide(key.sub, dom, obj, act)
	if err != nil {
		en.log.Error("casbin enforce", "err", err)
		return false
	}
	en.mu.Lock()
	if en.gen == gen {
		if en.cache == nil || len(en.cache) >= maxDecisions {
			en.cache = map[decision]bool{}
		}
		en.cache[key] = ok
	}
	en.mu.Unlock()
	return ok
}

// Reload reloads the whole policy and forgets every cached decision.
func (en *Enforcer) Reload() error {
	en.forget()
	err := en.e.LoadPolicy()
	en.fast.Store(buildIndex(en.e))
	en.forget() // decisions made while the load ran used the old policy
	return err
}

// decide evaluates one request without the cache: over the index of the loaded policy
// when there is one, else with Casbin's matcher.
func (en *Enforcer) decide(sub, dom, obj, act string) (bool, error) {
	if ix := en.fast.Load(); ix != nil {
		return ix.allowed(sub, dom, obj, act), nil
	}
	return en.e.Enforce(sub, dom, obj, act)
}

// index is the loaded policy arranged so that one decision looks at the few rules of
// its (object, action) instead of running the matcher (govaluate) over every rule:
// 100–230 µs per first decision with a 200-school policy, under a microsecond here.
//
// It computes exactly what Model's matcher and effect compute — some p with
// r.obj == p.obj && r.act == p.act && keyMatch(r.dom, p.dom) && g(r.sub, p.sub, r.dom) —
// for policies whose role assignments are one level deep (a user holds roles in a
// domain; no role is itself assigned a role) in concrete domains (no '*'), which is
// the only kind casbin_policy_lines() produces. g(a, b, d) is then "a == b, or the line g, a, b, d
// exists" (Casbin's role manager answers a name linked to itself as true). Any other
// shape builds no index and Casbin decides. TestFastDecisionEqualsCasbin compares
// the two over the real policy and random ones.
type index struct {
	rules map[objAct][]roleDom
	links map[link]struct{}
}

type objAct struct{ obj, act string }
type roleDom struct{ role, dom string }
type link struct{ sub, role, dom string }

func (ix *index) allowed(sub, dom, obj, act string) bool {
	for _, r := range ix.rules[objAct{obj, act}] {
		if !util.KeyMatch(dom, r.dom) {
			continue
		}
		if r.role == sub {
			return true
		}
		if _, ok := ix.links[link{sub, r.role, dom}]; ok {
			return true
		}
	}
	return false
}

// buildIndex indexes e's loaded policy, or returns nil when the policy is not of the
// shape index covers.
func buildIndex(e *casbin.SyncedEnforcer) *index {
	pol, err := e.GetPolicy()
	if err != nil {
		return nil
	}
	grp, err := e.GetGroupingPolicy()
	if err != nil {
		return nil
	}
	return indexPolicy(pol, grp)
}

func indexPolicy(pol, grp [][]string) *index {
	ix := &index{rules: map[objAct][]roleDom{}, links: make(map[link]struct{}, len(grp))}
	for _, p := range pol {
		if len(p) != 4 {
			return nil
		}
		k := objAct{p[2], p[3]}
		ix.rules[k] = append(ix.rules[k], roleDom{p[0], p[1]})
	}
	subjects := make(map[string]bool, len(grp))
	for _, g := range grp {
		if len(g) != 3 || strings.Contains(g[2], "*") {
			return nil // Casbin matches a domain pattern in a role assignment: it decides
		}
		subjects[g[0]] = true
		ix.links[link{g[0], g[1], g[2]}] = struct{}{}
	}
	for _, g := range grp {
		if subjects[g[1]] {
			return nil // a role that holds a role: a hierarchy, Casbin decides
		}
	}
	return ix
}

func (en *Enforcer) forget() {
	en.mu.Lock()
	en.gen++
	en.cache = nil
	en.mu.Unlock()
}

// Watch listens for policy changes on a dedicated connection and reloads the policy on
// each, until ctx ends. After a lost connection it reconnects and reloads, since
// notifications may have been missed meanwhile. ready, if not nil, is closed once
// listening has started.
func (en *Enforcer) Watch(ctx context.Context, connString string, ready chan<- struct{}) {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := en.listen(ctx, connString, func() {
			if first && ready != nil {
				close(ready)
			}
			first = false
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			return
		}
		en.log.Warn("policy listener lost its connection; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (en *Enforcer) listen(ctx context.Context, connString string, started func()) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+PolicyChannel); err != nil {
		return err
	}
	// Reload once listening, to catch changes made while not listening.
	if err := en.Reload(); err != nil {
		return err
	}
	started()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		_ = n
		// Drain a burst of notifications into one reload.
		for {
			wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			_, err := conn.WaitForNotification(wctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				break
			}
		}
		if err := en.Reload(); err != nil {
			en.log.Error("reload policy", "err", err)
		}
	}
}

// Rule is one built-in permission: a role may perform act on obj in domain pattern dom.
type Rule struct {
	Role, Domain, Object, Action string
}

// Rules returns the built-in permission rules, sorted.
func (en *Enforcer) Rules() ([]Rule, error) {
	pol, err := en.e.GetPolicy()
	if err != nil {
		return nil, err
	}
	var rules []Rule
	for _, p := range pol {
		if len(p) >= 4 {
			rules = append(rules, Rule{p[0], p[1], p[2], p[3]})
		}
	}
	sort.Slice(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
		return strings.Join([]string{a.Object, a.Action, a.Role}, "\x00") < strings.Join([]string{b.Object, b.Action, b.Role}, "\x00")
	})
	return rules, nil
}

// PermissionsMarkdown renders role × permission as the table in docs/permissions.md.
func PermissionsMarkdown(rules []Rule) string {
	type perm struct{ obj, act string }
	var perms []perm
	has := map[perm]map[string]bool{}
	for _, r := range rules {
		p := perm{r.Object, r.Action}
		if has[p] == nil {
			has[p] = map[string]bool{}
			perms = append(perms, p)
		}
		has[p][r.Role] = true
	}
	var b strings.Builder
	b.WriteString("# Permissions\n\n")
	b.WriteString("Generated from the built-in Casbin policy by `xinqiao docs permissions`; a test fails when this file\n")
	b.WriteString("and the policy differ. District roles act in `district:<id>` domains, school roles in `school:<id>`\n")
	b.WriteString("domains. Row-level checks (own school, own homeroom) are enforced by PostgreSQL row-level security on top.\n")
	b.WriteString("`role:<name> / grant` means the role may grant and revoke memberships with that role.\n\n")
	b.WriteString("| object | action |")
	for _, r := range scope.AllRoles {
		b.WriteString(" " + r + " |")
	}
	b.WriteString("\n|---|---|")
	for range scope.AllRoles {
		b.WriteString(":-:|")
	}
	b.WriteString("\n")
	for _, p := range perms {
		fmt.Fprintf(&b, "| %s | %s |", p.obj, p.act)
		for _, r := range scope.AllRoles {
			if has[p][r] {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("  |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
