package httpapi

import (
	"testing"
	"time"
)

// One address may post a few messages per window; others are not affected; the window slides.
func TestMailboxSenderLimitSlides(t *testing.T) {
	t.Parallel()
	l := NewSenderLimiter(2, 10*time.Minute)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if !l.allow("a", t0) || !l.allow("a", t0.Add(time.Minute)) {
		t.Fatal("the first two are refused")
	}
	if l.allow("a", t0.Add(2*time.Minute)) {
		t.Fatal("the third within the window is allowed")
	}
	if !l.allow("b", t0.Add(2*time.Minute)) {
		t.Fatal("another address is refused")
	}
	if !l.allow("a", t0.Add(10*time.Minute+time.Second)) {
		t.Fatal("the window does not slide")
	}
}
