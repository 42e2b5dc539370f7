package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/inbox"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// SMTP is how the mailer reaches its SMTP server. An empty Addr turns e-mail off.
type SMTP struct {
	Addr     string // host:port
	From     string // bare sender address
	Username string // optional; PLAIN auth (net/smtp sends it only over TLS or to localhost)
	Password string
	Timeout  time.Duration // for the whole conversation; default 30 s
}

// Mailer runs the e-mail job of inbox items.
type Mailer struct {
	DB        *database.DB
	SMTP      SMTP
	PublicURL string        // the web UI, linked from every message
	Lease     time.Duration // how long a claimed delivery blocks other runs; default 2 min
}

// Delivery statuses.
const (
	StatusSending = "sending"
	StatusSent    = "sent"
	StatusSkipped = "skipped"
	StatusFailed  = "failed"
)

// MessageID is the deterministic Message-ID of the e-mail about an inbox item: a resend
// after a crash carries the same id, so mail systems can recognise the duplicate.
func MessageID(item uuid.UUID) string { return "<inbox-" + item.String() + "@xinqiao>" }

// errBusy reports a delivery claimed by another run whose lease has not lapsed.
var errBusy = errors.New("delivery in progress elsewhere; retry later")

// Handle is the job handler for inbox.TypeEmail. It is idempotent: a delivery already
// sent or skipped is left alone; a failed send leaves the delivery unsent and returns
// the error, so asynq retries it.
func (m *Mailer) Handle(ctx context.Context, payload []byte) error {
	var p inbox.EmailPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return fmt.Errorf("inbox e-mail: malformed payload: %w", err)
	}
	if p.District == uuid.Nil || p.Item == uuid.Nil || p.User == uuid.Nil {
		return errors.New("inbox e-mail: the payload lacks an id")
	}
	return m.Deliver(ctx, p)
}

// Deliver sends the e-mail announcing one inbox item, at most once per item.
func (m *Mailer) Deliver(ctx context.Context, p inbox.EmailPayload) error {
	a := scope.Actor{Kind: "mailer", DistrictID: p.District, Username: "system:mailer"}
	lease := m.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	var to string
	send := false
	// 1. Claim the delivery (or find it finished) in a short transaction.
	err := m.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var status string
		var leased bool
		err := tx.QueryRow(ctx, `SELECT status, coalesce(lease_until > now(), false) FROM email_deliveries
			WHERE district_id = $1 AND item_id = $2 FOR UPDATE`, p.District, p.Item).Scan(&status, &leased)
		exists := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return database.MapError(err)
		}
		switch {
		case exists && (status == StatusSent || status == StatusSkipped):
			return nil
		case exists && status == StatusSending && leased:
			return errBusy
		}
		reason := ""
		if m.SMTP.Addr == "" {
			reason = "smtp_off"
		} else {
			var email *string
			var enabled, disabled bool
			err := tx.QueryRow(ctx, `SELECT s.email, coalesce(s.email_enabled, false), u.disabled
				FROM users u LEFT JOIN notification_settings s ON s.district_id = u.district_id AND s.user_id = u.id
				WHERE u.district_id = $1 AND u.id = $2`, p.District, p.User).Scan(&email, &enabled, &disabled)
			switch {
			case errors.Is(err, pgx.ErrNoRows) || (err == nil && disabled):
				reason = "user_disabled"
			case err != nil:
				return database.MapError(err)
			case !enabled || email == nil:
				reason = "email_off"
			default:
				to = *email
			}
		}
		status, attempts, until := StatusSending, 1, any(time.Now().Add(lease))
		if reason != "" {
			status, attempts, until = StatusSkipped, 0, nil
		} else {
			send = true
		}
		if !exists {
			_, err = tx.Exec(ctx, `INSERT INTO email_deliveries (district_id, item_id, school_id, user_id, message_id, status, skip_reason, attempts, lease_until)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.District, p.Item, p.School, p.User, MessageID(p.Item), status, reason, attempts, until)
		} else {
			_, err = tx.Exec(ctx, `UPDATE email_deliveries SET status = $3, skip_reason = $4, attempts = attempts + $5, lease_until = $6, updated_at = now()
				WHERE district_id = $1 AND item_id = $2`, p.District, p.Item, status, reason, attempts, until)
		}
		return database.MapError(err)
	})
	if err != nil || !send {
		return err
	}
	// 2. Send, outside any transaction.
	sendErr := m.send(ctx, to, p)
	// 3. Record the outcome. A failure leaves the delivery unsent for the retry.
	return errors.Join(sendErr, m.DB.InTx(context.WithoutCancel(ctx), a, func(tx pgx.Tx) error {
		var err error
		if sendErr != nil {
			msg := sendErr.Error()
			if len(msg) > 400 {
				msg = msg[:400]
			}
			_, err = tx.Exec(ctx, `UPDATE email_deliveries SET status = 'failed', lease_until = NULL, last_error = $3, updated_at = now()
				WHERE district_id = $1 AND item_id = $2`, p.District, p.Item, msg)
		} else {
			_, err = tx.Exec(ctx, `UPDATE email_deliveries SET status = 'sent', lease_until = NULL, last_error = '', sent_at = now(), updated_at = now()
				WHERE district_id = $1 AND item_id = $2`, p.District, p.Item)
		}
		return database.MapError(err)
	}))
}

// Message builds the complete message: generic text in Chinese and English and a link,
// nothing about the item but whether it is a task.
func (m *Mailer) Message(to string, p inbox.EmailPayload, now time.Time) []byte {
	what, whatEN := "通知", "notification"
	if p.Task {
		what, whatEN = "待办事项", "task"
	}
	link := strings.TrimRight(m.PublicURL, "/") + "/inbox"
	body := fmt.Sprintf("您好：\r\n\r\n您在心桥有一条新的%s，请登录查看：\r\n%s\r\n\r\n"+
		"You have a new %s in Xinqiao. Sign in to see it:\r\n%s\r\n\r\n"+
		"此邮件由系统自动发送，请勿回复。\r\nThis message was sent automatically; please do not reply.\r\n", what, link, whatEN, link)
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", mime.BEncoding.Encode("UTF-8", "心桥")+" <"+m.SMTP.From+">")
	header("To", "<"+to+">")
	header("Subject", mime.BEncoding.Encode("UTF-8", "心桥：您有一条新的"+what+" / New "+whatEN+" in Xinqiao"))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", MessageID(p.Item))
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.Bytes()
}

// send runs one SMTP conversation with a deadline: STARTTLS when offered, AUTH when
// configured.
func (m *Mailer) send(ctx context.Context, to string, p inbox.EmailPayload) error {
	timeout := m.SMTP.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", m.SMTP.Addr)
	if err != nil {
		return fault.Wrap(err, "smtp: connect")
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(m.SMTP.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fault.Wrap(err, "smtp: greeting")
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fault.Wrap(err, "smtp: starttls")
		}
	}
	if m.SMTP.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.SMTP.Username, m.SMTP.Password, host)); err != nil {
			return fault.Wrap(err, "smtp: auth")
		}
	}
	if err := c.Mail(m.SMTP.From); err != nil {
		return fault.Wrap(err, "smtp: mail from")
	}
	if err := c.Rcpt(to); err != nil {
		return fault.Wrap(err, "smtp: rcpt to")
	}
	w, err := c.Data()
	if err != nil {
		return fault.Wrap(err, "smtp: data")
	}
	if _, err := w.Write(m.Message(to, p, time.Now())); err != nil {
		return fault.Wrap(err, "smtp: write")
	}
	if err := w.Close(); err != nil {
		return fault.Wrap(err, "smtp: end of data")
	}
	// The server has accepted the message: a failed QUIT must not cause a resend.
	_ = c.Quit()
	return nil
}
