package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// op is one client operation and what the client saw.
type op struct {
	n      int
	marker int64 // a value unique to the operation, stored in clear (see each writer)
	reply  reply
	id     uuid.UUID // from a 2xx answer
	sum    string    // uploads: SHA-256 of the content (stored in clear)
	took   time.Duration
}

func (o op) acked() bool { return o.reply.err == nil && o.reply.status >= 200 && o.reply.status < 300 }

// history records every operation of a run, in the order they finished.
type history struct {
	mu  sync.Mutex
	ops []op
}

func (h *history) add(o op) {
	h.mu.Lock()
	h.ops = append(h.ops, o)
	h.mu.Unlock()
}

func (h *history) snapshot() []op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]op(nil), h.ops...)
}

// count returns how many recorded operations satisfy fn.
func (h *history) count(fn func(op) bool) int {
	n := 0
	for _, o := range h.snapshot() {
		if fn(o) {
			n++
		}
	}
	return n
}

// writers runs k concurrent clients, each issuing fresh operations (never retrying one:
// an unanswered operation stays in doubt) until stop is called.
func writers(k int, fn func(n int) op) (h *history, stop func()) {
	h = &history{}
	ctx, cancel := context.WithCancel(context.Background())
	var next atomic.Int64
	var wg sync.WaitGroup
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := int(next.Add(1))
				start := time.Now()
				o := fn(n)
				o.n, o.took = n, time.Since(start)
				h.add(o)
				if !o.acked() {
					time.Sleep(20 * time.Millisecond) // no hot loop while the API is away
				}
			}
		}()
	}
	return h, func() { cancel(); wg.Wait() }
}

// waitFor waits (bounded) until the history satisfies cond.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	if err := Eventually(d, func() error {
		if cond() {
			return nil
		}
		return fmt.Errorf("waiting for %s", what)
	}); err != nil {
		t.Fatal(err)
	}
}

// sessionBase is the first occurred_at of the session writers: each operation n records
// a session at base + n seconds, so the time is the operation's marker in the table.
var sessionBase = time.Now().Add(-6 * time.Hour).Truncate(time.Second)

// sessionWriter records counseling sessions in caseFile.
func (w *world) sessionWriter(caseFile uuid.UUID) func(n int) op {
	return func(n int) op {
		at := sessionBase.Add(time.Duration(n) * time.Second)
		r := do(w.counselor, "POST", "/api/v1/schools/"+w.school.String()+"/case-files/"+caseFile.String()+"/sessions", map[string]any{
			"occurred_at": at.Format(time.RFC3339), "channel": "walk_in", "participants": []string{"student"},
			"initiated_by": "self", "categories": []string{"emotion"}, "duration_minutes": 30, "summary": fmt.Sprintf("chaos op %d", n)})
		o := op{marker: at.Unix(), reply: r}
		if o.acked() {
			var s struct {
				ID uuid.UUID `json:"id"`
			}
			_ = json.Unmarshal(r.body, &s)
			o.id = s.ID
		}
		return o
	}
}

// verdict is the checker's result: every acknowledged operation against the final state.
type verdict struct {
	Acknowledged int // answered 2xx
	Found        int // acknowledged and present, exactly as acknowledged
	Lost         int // acknowledged, absent (must be 0)
	Duplicated   int // applied more than once (must be 0)
	Phantom      int // present, but no client ever sent it (must be 0)
	HalfApplied  int // present without its audit row (must be 0)
	InDoubt      int // not acknowledged (error or no answer) but applied: allowed
	NotApplied   int // not acknowledged, absent
}

func (v verdict) String() string {
	return fmt.Sprintf("acknowledged=%d found=%d lost=%d duplicated=%d phantom=%d half-applied=%d in-doubt-applied=%d not-applied=%d",
		v.Acknowledged, v.Found, v.Lost, v.Duplicated, v.Phantom, v.HalfApplied, v.InDoubt, v.NotApplied)
}

// report prints the counts and fails the test on any violation.
func (v verdict) report(t *testing.T, name string) {
	t.Helper()
	line := fmt.Sprintf("CHAOS %s: %s", name, v)
	t.Log(line)
	fmt.Println(line)
	if v.Lost != 0 || v.Duplicated != 0 || v.Phantom != 0 || v.HalfApplied != 0 || v.Found != v.Acknowledged {
		t.Errorf("%s: the final state disagrees with what was acknowledged: %s", name, v)
	}
}

// checkSessions compares a history of session writes with the sessions table and the
// audit log (a session and its audit row are written in one transaction).
func (w *world) checkSessions(t *testing.T, caseFiles []uuid.UUID, ops []op) verdict {
	t.Helper()
	rows, err := w.admin.Query(bg(), `SELECT s.id, s.occurred_at,
			EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'sessions.create' AND a.object_id = s.id::text)
		FROM counseling_sessions s WHERE s.school_id = $1 AND s.case_file_id = ANY($2)`, w.school, caseFiles)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id      uuid.UUID
		audited bool
	}
	byMarker := map[int64][]row{}
	var v verdict
	for rows.Next() {
		var r row
		var at time.Time
		if err := rows.Scan(&r.id, &at, &r.audited); err != nil {
			t.Fatal(err)
		}
		byMarker[at.Unix()] = append(byMarker[at.Unix()], r)
		if !r.audited {
			v.HalfApplied++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sent := map[int64]bool{}
	for _, o := range ops {
		sent[o.marker] = true
		got := byMarker[o.marker]
		if len(got) > 1 {
			v.Duplicated += len(got) - 1
		}
		switch {
		case o.acked():
			v.Acknowledged++
			if len(got) >= 1 && got[0].id == o.id {
				v.Found++
			} else {
				v.Lost++
			}
		case len(got) > 0:
			v.InDoubt++
		default:
			v.NotApplied++
		}
	}
	for m, rs := range byMarker {
		if !sent[m] {
			v.Phantom += len(rs)
		}
	}
	return v
}
