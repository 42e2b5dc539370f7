package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/mailbox"
)

// mailboxMessage posts a named message to the target school's public mailbox and returns
// its id (read behind the API: the sender never learns it).
func (w *world) mailboxMessage(t target) uuid.UUID {
	w.t.Helper()
	r := w.do("", "POST", "/api/v1/public/mailbox/"+t.school.String(), map[string]any{"anonymous": false, "name": "小明", "homeroom": "七(1)班", "body": "想和老师聊聊"})
	if r.status != 201 {
		w.t.Fatalf("post: %d %s", r.status, r.body)
	}
	return w.id(`SELECT id FROM mailbox_messages WHERE school_id = $1 ORDER BY created_at DESC LIMIT 1`, t.school)
}

// An anonymous message carries nothing that identifies its sender: no name, no address
// (neither in the message nor in the audit log), its text encrypted; the counselor reads
// and answers it; the sender reads the answer with the reply code shown once.
func TestMailboxAnonymousMessageCarriesNoIdentifyingMetadata(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	pub := "/api/v1/public/mailbox/" + own.school.String()
	const text = "我最近和父母吵得很厉害，晚上一直哭"

	var page mailbox.School
	if r := w.do("", "GET", pub, nil); r.status != 200 {
		t.Fatalf("page: %d", r.status)
	} else if r.decode(t, &page); page.Name != "示范区第一中学" {
		t.Fatalf("page: %+v", page)
	}
	r := w.do("", "POST", pub, map[string]any{"anonymous": true, "body": text}, "User-Agent", "Mozilla/5.0 (iPhone) 学生手机", "X-Forwarded-For", "203.0.113.77")
	var posted mailbox.Posted
	r.decode(t, &posted)
	if r.status != 201 || len(posted.ReplyCode) < 16 {
		t.Fatalf("post: %d %s", r.status, r.body)
	}
	w.ownerQuery(func(tx pgx.Tx) {
		var row string
		tx.QueryRow(context.Background(), `SELECT m::text FROM mailbox_messages m WHERE school_id = $1`, own.school).Scan(&row)
		for _, leak := range []string{"127.0.0.1", "203.0.113.77", "iPhone", "父母"} {
			if strings.Contains(row, leak) {
				t.Errorf("the stored message holds %q: %s", leak, row)
			}
		}
		var audits string
		tx.QueryRow(context.Background(), `SELECT string_agg(a::text, ' ') FROM audit_log a WHERE action = 'mailbox.post'`).Scan(&audits)
		if audits == "" || strings.Contains(audits, "127.0.0.1") || strings.Contains(audits, "203.0.113.77") {
			t.Errorf("audit of the post: %s", audits)
		}
	})

	counselor := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	var box struct{ Items []mailbox.Message }
	w.do(counselor, "GET", base+"/mailbox", nil).decode(t, &box)
	if len(box.Items) != 1 || box.Items[0].Body != text || !box.Items[0].Anonymous || box.Items[0].SenderName != "" {
		t.Fatalf("inbox: %+v", box.Items)
	}
	msg := box.Items[0]
	if r := w.do(counselor, "POST", base+"/mailbox/"+msg.ID.String()+"/link", map[string]any{"student_id": own.student}); r.status != 409 {
		t.Fatalf("linking an anonymous message: %d %s", r.status, r.body)
	}
	const answer = "谢谢你愿意说出来。每周三下午心理辅导室都开放，欢迎来找我。"
	if r := w.do(counselor, "POST", base+"/mailbox/"+msg.ID.String()+"/answer", map[string]any{"answer": answer}); r.status != 200 {
		t.Fatalf("answer: %d %s", r.status, r.body)
	}
	var reply mailbox.Reply
	r = w.do("", "GET", pub+"/replies/"+strings.ToLower(posted.ReplyCode), nil)
	r.decode(t, &reply)
	if r.status != 200 || reply.Status != "answered" || reply.Answer != answer {
		t.Fatalf("reply: %d %s", r.status, r.body)
	}
	if r := w.do("", "GET", pub+"/replies/AAAAAAAAAAAAAAAA", nil); r.status != 404 {
		t.Fatalf("a wrong code: %d", r.status)
	}
	if r := w.do("", "GET", "/api/v1/public/mailbox/"+w.schools["s2"].String()+"/replies/"+posted.ReplyCode, nil); r.status != 404 {
		t.Fatalf("the code at another school: %d", r.status)
	}
	// Nobody else at the school reads the mailbox.
	for _, u := range []string{"leader.s1", "teacher.s1", "liaison.s1", "counselor.s2"} {
		if r := w.do(w.token(u), "GET", base+"/mailbox", nil); r.status != 403 && r.status != 404 {
			t.Errorf("%s reads the mailbox: %d", u, r.status)
		}
	}
}

// A named message is linked to the student's case file (opened if there is none).
func TestMailboxNamedMessageLinkedToCaseFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	id := w.mailboxMessage(own)
	counselor := w.token("counselor.s1")
	base := "/api/v1/schools/" + own.school.String()
	var msg mailbox.Message
	r := w.do(counselor, "POST", base+"/mailbox/"+id.String()+"/link", map[string]any{"student_id": own.student})
	r.decode(t, &msg)
	if r.status != 200 || msg.CaseFileID == nil || *msg.CaseFileID != own.caseFile || msg.SenderName != "小明" || msg.Homeroom != "七(1)班" {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	if r := w.do(counselor, "POST", base+"/mailbox/"+id.String()+"/link", map[string]any{"student_id": w.target("s2").student}); r.status != 422 {
		t.Fatalf("a student of another school: %d %s", r.status, r.body)
	}
	if r := w.do(w.token("counselor.s2"), "POST", "/api/v1/schools/"+w.schools["s2"].String()+"/mailbox/"+id.String()+"/answer", map[string]any{"answer": "x"}); r.status != 404 {
		t.Fatalf("another school's counselor answers: %d", r.status)
	}
}

// Spam and bad input: a clear problem, nothing stored.
func TestMailboxBadInputAndSpamStoreNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	own := w.target("s1")
	pub := "/api/v1/public/mailbox/" + own.school.String()
	for _, c := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"empty", map[string]any{"anonymous": true, "body": "  "}, "body"},
		{"too long", map[string]any{"anonymous": true, "body": strings.Repeat("长", 3001)}, "body"},
		{"anonymous with a name", map[string]any{"anonymous": true, "name": "小红", "body": "你好"}, "name"},
		{"named without a name", map[string]any{"anonymous": false, "body": "你好"}, "name"},
	} {
		r := w.do("", "POST", pub, c.body)
		if r.status != 422 || !hasField(w.problem(t, r), c.field) {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
	}
	if r := w.do("", "POST", "/api/v1/public/mailbox/"+uuid.NewString(), map[string]any{"anonymous": true, "body": "你好"}); r.status != 404 {
		t.Errorf("unknown school: %d", r.status)
	}
	if n := w.scalar(`SELECT count(*) FROM mailbox_messages`); n != 0 {
		t.Fatalf("stored: %d", n)
	}
	// The school's limit across all senders (the database counts, every instance agrees).
	svc := &mailbox.Service{DB: w.db.App, Cipher: w.ring, SchoolLimit: 3}
	for i := 0; i < 3; i++ {
		if _, err := svc.Post(context.Background(), own.school, "", mailbox.PostInput{Anonymous: true, Body: "广告"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := svc.Post(context.Background(), own.school, "", mailbox.PostInput{Anonymous: true, Body: "广告"})
	if err == nil || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("over the school's limit: %v", err)
	}
	if n := w.scalar(`SELECT count(*) FROM mailbox_messages`); n != 3 {
		t.Fatalf("stored: %d", n)
	}
}
