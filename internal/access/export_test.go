package access

import (
	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"github.com/xinqiao/xinqiao/internal/scope"
)

// Uncached decides without the decision cache: the first decision after a policy load.
func Uncached(en *Enforcer, a scope.Actor, obj, act string) bool {
	ok, _ := en.decide("user:"+a.UserID.String(), a.Domain(), obj, act)
	return ok
}

// Decide decides without the cache, as Allowed does on a miss.
func Decide(en *Enforcer, sub, dom, obj, act string) bool {
	ok, err := en.decide(sub, dom, obj, act)
	if err != nil {
		panic(err)
	}
	return ok
}

// CasbinEnforce decides with Casbin's matcher alone (no index, no cache).
func CasbinEnforce(en *Enforcer, sub, dom, obj, act string) bool {
	ok, err := en.e.Enforce(sub, dom, obj, act)
	if err != nil {
		panic(err)
	}
	return ok
}

// FastDecide decides with the policy index; indexed is false when the loaded policy
// built none.
func FastDecide(en *Enforcer, sub, dom, obj, act string) (ok, indexed bool) {
	ix := en.fast.Load()
	if ix == nil {
		return false, false
	}
	return ix.allowed(sub, dom, obj, act), true
}

// Lines is a policy given as lines ("p", role, dom, obj, act / "g", user, role, dom).
type Lines [][]string

// LoadPolicy implements persist.Adapter.
func (l Lines) LoadPolicy(m model.Model) error {
	for _, line := range l {
		if err := persist.LoadPolicyArray(line, m); err != nil {
			return err
		}
	}
	return nil
}

func (l Lines) SavePolicy(model.Model) error                              { return errReadOnly }
func (l Lines) AddPolicy(string, string, []string) error                  { return errReadOnly }
func (l Lines) RemovePolicy(string, string, []string) error               { return errReadOnly }
func (l Lines) RemoveFilteredPolicy(string, string, int, ...string) error { return errReadOnly }

// NewEnforcerFromLines loads an enforcer from lines instead of PostgreSQL.
func NewEnforcerFromLines(lines Lines) (*Enforcer, error) {
	m, err := model.NewModelFromString(Model)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewSyncedEnforcer(m, lines)
	if err != nil {
		return nil, err
	}
	en := &Enforcer{e: e}
	en.fast.Store(buildIndex(e))
	return en, nil
}
