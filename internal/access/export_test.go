package access

import "github.com/xinqiao/xinqiao/internal/scope"

// Uncached decides without the decision cache (benchmarks of the matcher itself).
func Uncached(en *Enforcer, a scope.Actor, obj, act string) bool {
	ok, _ := en.e.Enforce("user:"+a.UserID.String(), a.Domain(), obj, act)
	return ok
}
