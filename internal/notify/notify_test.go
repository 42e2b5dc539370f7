package notify_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/config"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/notify"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

// canary is a student's name and a note a careless message could leak.
const canary = "王小明金丝雀"

type fixture struct {
	t                testing.TB
	db               *testdb.DB
	district, school uuid.UUID
	mailer           *notify.Mailer
	settings         *notify.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTPAddr == "" || os.Getenv("XINQIAO_TEST_MAILPIT_URL") == "" {
		t.Fatal("XINQIAO_SMTP_ADDR and XINQIAO_TEST_MAILPIT_URL must point at the local Mailpit: eval \"$(scripts/services.sh env)\"")
	}
	f := &fixture{t: t, db: testdb.New(t), district: uuid.New(), school: uuid.New()}
	f.owner(`INSERT INTO districts (id, name, code) VALUES ($1, '测试区', $2)`, f.district, "d-"+f.district.String()[:8])
	f.owner(`INSERT INTO schools (id, district_id, name, code, kind) VALUES ($1, $2, '测试学校', 's1', 'k12')`, f.school, f.district)
	f.mailer = &notify.Mailer{DB: f.db.App, SMTP: notify.SMTP{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom}, PublicURL: "https://xinqiao.example.test"}
	f.settings = &notify.Service{DB: f.db.App}
	return f
}

// owner runs one statement as the superuser (behind row-level security).
func (f *fixture) owner(sql string, args ...any) {
	f.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, f.db.AdminURL)
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		f.t.Fatal(err)
	}
}

// user creates a staff user; with an address, e-mail is set (on or off) by the user.
func (f *fixture) user(email string, on bool) scope.Actor {
	f.t.Helper()
	id := uuid.New()
	f.owner(`INSERT INTO users (id, district_id, username, display_name, password_hash) VALUES ($1, $2, $3, '张老师', 'x')`,
		id, f.district, "u"+id.String()[:12])
	a := scope.Actor{UserID: id, DistrictID: f.district, Kind: scope.User, Username: "u"}
	if email != "" {
		if _, err := f.settings.Save(context.Background(), a, notify.SettingsInput{Email: &email, EmailEnabled: &on}); err != nil {
			f.t.Fatal(err)
		}
	}
	return a
}

func (f *fixture) schoolActor() scope.Actor {
	return scope.Actor{DistrictID: f.district, SchoolID: f.school, Kind: scope.School, Username: "system:test"}
}

// post adds a school item for user in a transaction of the school and commits it
// (or rolls it back when rollback is set).
func (f *fixture) post(user uuid.UUID, rollback bool) {
	f.t.Helper()
	sentinel := errors.New("roll back")
	err := f.db.App.InTx(context.Background(), f.schoolActor(), func(tx pgx.Tx) error {
		sid := uuid.New()
		if _, err := inbox.Post(context.Background(), tx, inbox.Notice{School: f.school, User: user, Kind: "concern_raised", Task: true,
			Subject: "concern", SubjectID: &sid, Params: map[string]string{"student": canary, "note": canary}}); err != nil {
			return err
		}
		if rollback {
			return sentinel
		}
		return nil
	})
	if err != nil && !(rollback && errors.Is(err, sentinel)) {
		f.t.Fatal(err)
	}
}

// jobs returns the payloads of the e-mail jobs waiting in the outbox for user, as the
// relay would hand them to the worker.
func (f *fixture) jobs(user uuid.UUID) [][]byte {
	f.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, f.db.AdminURL)
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT payload::text FROM outbox WHERE task_type = $1 AND payload->>'user_id' = $2 ORDER BY id`,
		inbox.TypeEmail, user.String())
	if err != nil {
		f.t.Fatal(err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]byte, error) {
		var s string
		err := r.Scan(&s)
		return []byte(s), err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return ps
}

// delivery reads the delivery row of the user's only item.
func (f *fixture) delivery(user uuid.UUID) (status, reason string, attempts int) {
	f.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, f.db.AdminURL)
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT status, skip_reason, attempts FROM email_deliveries WHERE user_id = $1`, user).
		Scan(&status, &reason, &attempts); err != nil {
		f.t.Fatal(err)
	}
	return
}

func recipient() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "staff-" + hex.EncodeToString(b[:]) + "@example.test"
}

type mailMessage struct {
	ID        string `json:"ID"`
	MessageID string `json:"MessageID"`
	Subject   string `json:"Subject"`
	Text      string `json:"Text"`
	HTML      string `json:"HTML"`
}

// received asks Mailpit for every message sent to addr, with its text.
func received(t testing.TB, addr string) []mailMessage {
	t.Helper()
	base := os.Getenv("XINQIAO_TEST_MAILPIT_URL")
	var list struct {
		Messages []mailMessage `json:"messages"`
	}
	getJSON(t, base+"/api/v1/search?query="+url.QueryEscape(`to:"`+addr+`"`), &list)
	out := make([]mailMessage, 0, len(list.Messages))
	for _, m := range list.Messages {
		var full mailMessage
		getJSON(t, base+"/api/v1/message/"+m.ID, &full)
		out = append(out, full)
	}
	return out
}

func getJSON(t testing.TB, u string, v any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("mailpit %s: %d", u, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestAnInboxItemIsAnnouncedByOneGenericEmailEvenWhenTheJobRunsTwice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	to := recipient()
	u := f.user(to, true)
	f.post(u.UserID, false)
	jobs := f.jobs(u.UserID)
	if len(jobs) != 1 {
		t.Fatalf("outbox jobs = %d, want 1", len(jobs))
	}
	for range 2 { // asynq may run a job again (retry after a lost ack, a restarted worker)
		if err := f.mailer.Handle(context.Background(), jobs[0]); err != nil {
			t.Fatal(err)
		}
	}
	msgs := received(t, to)
	if len(msgs) != 1 {
		t.Fatalf("messages to %s = %d, want exactly 1", to, len(msgs))
	}
	m := msgs[0]
	var p inbox.EmailPayload
	_ = json.Unmarshal(jobs[0], &p)
	if "<"+m.MessageID+">" != notify.MessageID(p.Item) && m.MessageID != notify.MessageID(p.Item) {
		t.Errorf("Message-ID = %q, want %q", m.MessageID, notify.MessageID(p.Item))
	}
	all := m.Subject + m.Text + m.HTML
	for _, leak := range []string{canary, "张老师", "concern", p.Item.String()} {
		if strings.Contains(all, leak) {
			t.Errorf("the message contains %q:\n%s", leak, all)
		}
	}
	for _, want := range []string{"待办事项", "New task in Xinqiao", "https://xinqiao.example.test/inbox"} {
		if !strings.Contains(all, want) {
			t.Errorf("the message lacks %q:\n%s", want, all)
		}
	}
	if status, _, attempts := f.delivery(u.UserID); status != notify.StatusSent || attempts != 1 {
		t.Errorf("delivery = %s after %d attempts, want sent after 1", status, attempts)
	}
}

func TestAFailedSMTPSendIsRetriedAndSentExactlyOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	to := recipient()
	u := f.user(to, true)
	f.post(u.UserID, false)
	job := f.jobs(u.UserID)[0]
	down := *f.mailer
	down.SMTP.Addr = "127.0.0.1:1" // nothing listens: the send fails
	if err := down.Handle(context.Background(), job); err == nil {
		t.Fatal("a failed send must fail the job so asynq retries it")
	}
	if status, _, _ := f.delivery(u.UserID); status != notify.StatusFailed {
		t.Fatalf("delivery after a failed send = %s, want failed", status)
	}
	if n := len(received(t, to)); n != 0 {
		t.Fatalf("messages after a failed send = %d", n)
	}
	for range 2 {
		if err := f.mailer.Handle(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(received(t, to)); n != 1 {
		t.Fatalf("messages after the retries = %d, want exactly 1", n)
	}
	if status, _, attempts := f.delivery(u.UserID); status != notify.StatusSent || attempts != 2 {
		t.Errorf("delivery = %s after %d attempts, want sent after 2", status, attempts)
	}
}

func TestARunningDeliveryIsNotSentAgainByAConcurrentRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	to := recipient()
	u := f.user(to, true)
	f.post(u.UserID, false)
	job := f.jobs(u.UserID)[0]
	var p inbox.EmailPayload
	_ = json.Unmarshal(job, &p)
	// Another worker has claimed the delivery and is talking to the SMTP server.
	f.owner(`INSERT INTO email_deliveries (district_id, item_id, school_id, user_id, message_id, status, attempts, lease_until)
		VALUES ($1, $2, $3, $4, $5, 'sending', 1, now() + interval '1 minute')`, f.district, p.Item, f.school, u.UserID, notify.MessageID(p.Item))
	if err := f.mailer.Handle(context.Background(), job); err == nil {
		t.Fatal("a run must not send while another holds the delivery")
	}
	if n := len(received(t, to)); n != 0 {
		t.Fatalf("messages = %d, want 0", n)
	}
}

func TestNoEmailIsSentWhenTheUserHasEmailOffOrIsDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	off, gone := recipient(), recipient()
	users := map[string]scope.Actor{"off": f.user(off, false), "never set": f.user("", false), "disabled account": f.user(gone, true)}
	f.owner(`UPDATE users SET disabled = true WHERE id = $1`, users["disabled account"].UserID)
	want := map[string]string{"off": "email_off", "never set": "email_off", "disabled account": "user_disabled"}
	for name, u := range users {
		f.post(u.UserID, false)
		for _, job := range f.jobs(u.UserID) {
			if err := f.mailer.Handle(context.Background(), job); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if status, reason, _ := f.delivery(u.UserID); status != notify.StatusSkipped || reason != want[name] {
			t.Errorf("%s: delivery = %s (%s), want skipped (%s)", name, status, reason, want[name])
		}
	}
	if n := len(received(t, off)) + len(received(t, gone)); n != 0 {
		t.Fatalf("messages to users with e-mail off or a disabled account = %d", n)
	}
	// Turning e-mail on later does not send the old items.
	on := true
	if _, err := f.settings.Save(context.Background(), users["off"], notify.SettingsInput{Email: &off, EmailEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	for _, job := range f.jobs(users["off"].UserID) {
		if err := f.mailer.Handle(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(received(t, off)); n != 0 {
		t.Fatalf("messages for items posted while e-mail was off = %d", n)
	}
}

func TestNoEmailIsSentWhenSMTPIsNotConfigured(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	to := recipient()
	u := f.user(to, true)
	f.post(u.UserID, false)
	off := *f.mailer
	off.SMTP.Addr = ""
	if err := off.Handle(context.Background(), f.jobs(u.UserID)[0]); err != nil {
		t.Fatal(err)
	}
	if status, reason, _ := f.delivery(u.UserID); status != notify.StatusSkipped || reason != "smtp_off" {
		t.Errorf("delivery = %s (%s), want skipped (smtp_off)", status, reason)
	}
}

func TestAnItemWhoseTransactionRolledBackSendsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	to := recipient()
	u := f.user(to, true)
	f.post(u.UserID, true)
	if jobs := f.jobs(u.UserID); len(jobs) != 0 {
		t.Fatalf("outbox jobs for a rolled-back item = %d, want 0", len(jobs))
	}
	// The user's next, committed item is announced once: only that one.
	f.post(u.UserID, false)
	for _, job := range f.jobs(u.UserID) {
		if err := f.mailer.Handle(context.Background(), job); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(received(t, to)); n != 1 {
		t.Fatalf("messages = %d, want 1 (the committed item only)", n)
	}
}

func TestDistrictItemsArePostedFromASchoolScopeOnceAndAnnounced(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	to := recipient()
	sup := f.user(to, true)
	ctx := context.Background()
	subject := uuid.New()
	for range 2 { // an escalation job posting twice for the same crisis
		err := f.db.App.InTx(ctx, f.schoolActor(), func(tx pgx.Tx) error {
			_, err := inbox.PostDistrict(ctx, tx, inbox.DistrictNotice{District: f.district, User: sup.UserID, Kind: "crisis_escalated",
				Task: true, Subject: "crisis", SubjectID: &subject, Params: map[string]string{"school": "测试学校"}, DedupeKey: "crisis:" + subject.String()})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	svc := &inbox.Service{DB: f.db.App}
	da := scope.Actor{UserID: sup.UserID, DistrictID: f.district, Kind: scope.District, Roles: []string{scope.DistrictSupervisor}, Username: "sup"}
	list, err := svc.ListDistrict(ctx, da, f.district, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Unread != 1 || list.Open != 1 || list.Items[0].Kind != "crisis_escalated" {
		t.Fatalf("district inbox = %+v, want the one escalation", list)
	}
	// Nobody else of the district, and not the user in a school scope, sees it.
	other := f.user("", false)
	oa := scope.Actor{UserID: other.UserID, DistrictID: f.district, Kind: scope.District, Username: "other"}
	if l, _ := svc.ListDistrict(ctx, oa, f.district, true); len(l.Items) != 0 {
		t.Fatalf("another user sees %d items", len(l.Items))
	}
	if _, err := svc.DoneDistrict(ctx, oa, f.district, list.Items[0].ID); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("another user closing the item: %v, want not found", err)
	}
	if _, err := svc.MarkReadDistrict(ctx, da, f.district, list.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	if c, _ := svc.CountDistrict(ctx, da, f.district); c.Unread != 0 || c.Open != 1 {
		t.Fatalf("counts after reading = %+v, want 0 unread, 1 open", c)
	}
	jobs := f.jobs(sup.UserID)
	if len(jobs) != 1 {
		t.Fatalf("outbox jobs = %d, want 1 (the duplicate posted nothing)", len(jobs))
	}
	if err := f.mailer.Handle(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	if msgs := received(t, to); len(msgs) != 1 || strings.Contains(msgs[0].Text, "测试学校") {
		t.Fatalf("messages = %+v, want one without the school's name", msgs)
	}
}

func TestSettingsAreValidatedAndOwnedByTheUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.user("", false)
	s, err := f.settings.Get(ctx, u)
	if err != nil || s.Email != nil || s.EmailEnabled {
		t.Fatalf("defaults = %+v, %v", s, err)
	}
	on, off := true, false
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		name  string
		in    notify.SettingsInput
		field string
	}{
		{"not an address", notify.SettingsInput{Email: str("not-an-address"), EmailEnabled: &off}, "email"},
		{"display name", notify.SettingsInput{Email: str("张老师 <a@example.test>"), EmailEnabled: &off}, "email"},
		{"header injection", notify.SettingsInput{Email: str("a@example.test\r\nBcc: b@example.test"), EmailEnabled: &off}, "email"},
		{"too long", notify.SettingsInput{Email: str(strings.Repeat("a", 250) + "@example.test"), EmailEnabled: &off}, "email"},
		{"on without address", notify.SettingsInput{EmailEnabled: &on}, "email"},
		{"no switch", notify.SettingsInput{Email: str("a@example.test")}, "email_enabled"},
	} {
		_, err := f.settings.Save(ctx, u, c.in)
		fe, ok := fault.As(err)
		if !ok || fe.Kind != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Field != c.field {
			t.Errorf("%s: %v, want a validation error on %s", c.name, err, c.field)
		}
	}
	if s, _ := f.settings.Get(ctx, u); s.UpdatedAt != nil {
		t.Fatalf("a refused save stored %+v", s)
	}
	s, err = f.settings.Save(ctx, u, notify.SettingsInput{Email: str(" teacher@example.test "), EmailEnabled: &on})
	if err != nil || s.Email == nil || *s.Email != "teacher@example.test" || !s.EmailEnabled {
		t.Fatalf("save = %+v, %v", s, err)
	}
	// Another user of the district reads their own (empty) settings, not these.
	if o, _ := f.settings.Get(ctx, f.user("", false)); o.Email != nil {
		t.Fatalf("another user reads %+v", o)
	}
}
