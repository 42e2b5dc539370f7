package httpapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/mailbox"
)

// senderLimiter limits how often one address may post to the public mailbox. It lives in
// memory only: the address is never written anywhere. Each API instance counts on its
// own; the database adds a per-school limit across instances.
type senderLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	seen   map[string][]time.Time
}

func (l *senderLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil || len(l.seen) > 100_000 {
		l.seen = map[string][]time.Time{}
	}
	kept := l.seen[key][:0]
	for _, t := range l.seen[key] {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.max {
		l.seen[key] = kept
		return false
	}
	l.seen[key] = append(kept, now)
	return true
}

var mailboxSenders = NewSenderLimiter(5, 10*time.Minute)

// NewSenderLimiter allows max public mailbox messages per address and window.
func NewSenderLimiter(max int, window time.Duration) *senderLimiter {
	return &senderLimiter{max: max, window: window}
}

func (s *Server) mailboxPage(cl *call) error {
	id, err := publicSchool(cl)
	if err != nil {
		return err
	}
	res, err := s.Mailbox.School(cl, id)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) postToMailbox(cl *call) error {
	id, err := publicSchool(cl)
	if err != nil {
		return err
	}
	var in mailbox.PostInput
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	limiter := s.MailboxSenders
	if limiter == nil {
		limiter = mailboxSenders
	}
	if !limiter.allow(cl.ClientIP(), time.Now()) {
		return &fault.Error{Kind: fault.RateLimited, Message: "too many messages from here; please try again later"}
	}
	res, err := s.Mailbox.Post(cl, id, requestID(cl.Context), in)
	return respond(cl, http.StatusCreated, res, err)
}

func (s *Server) mailboxReply(cl *call) error {
	id, err := publicSchool(cl)
	if err != nil {
		return err
	}
	res, err := s.Mailbox.Reply(cl, id, cl.Param("code"))
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) mailboxInbox(cl *call) error {
	res, err := s.Mailbox.Inbox(cl, cl.Actor, cl.School, cl.Query("status"))
	return respond(cl, http.StatusOK, itemsResponse[mailbox.Message]{Items: res}, err)
}

func (s *Server) answerMailbox(cl *call) error {
	id, err := cl.pathID("messageId")
	if err != nil {
		return err
	}
	var in struct {
		Answer string `json:"answer"`
	}
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Mailbox.Answer(cl, cl.Actor, cl.School, id, in.Answer)
	return respond(cl, http.StatusOK, res, err)
}

func (s *Server) linkMailbox(cl *call) error {
	id, err := cl.pathID("messageId")
	if err != nil {
		return err
	}
	var in struct {
		StudentID uuid.UUID `json:"student_id"`
	}
	if err := decodeJSON(cl.Context, &in); err != nil {
		return err
	}
	res, err := s.Mailbox.Link(cl, cl.Actor, cl.School, id, in.StudentID)
	return respond(cl, http.StatusOK, res, err)
}
