// Package teachingcase owns teaching cases (典型案例): a counselor turns a closed case file
// into a case for supervision and training. The system drafts it with names, numbers,
// dates, school, homeroom and free-text identifiers removed or generalized; the draft is
// the author's alone, sealed with the school's data key, with a side-by-side list of what
// was removed. The counselor reviews every field; publishing refuses a field that still
// holds an identifier of the original, then stores the reviewed text in the district's
// case bank without school, author or case file. The link to the original file is kept
// only in the audit log.
package teachingcase

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Cipher encrypts with the school's data key and decrypts case-file content
// (keyring.Keyring implements it).
type Cipher interface {
	Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// Service is the teaching-case service.
type Service struct {
	DB     *database.DB
	Cipher Cipher
}

// Fields are the parts of a teaching case, in order; each is reviewed before publishing.
var Fields = []string{"title", "background", "presenting_concern", "process", "outcome", "reflection"}

const purposeDraft = "teaching_case.draft"

// Draft is a teaching case being reviewed by its author.
type Draft struct {
	ID        uuid.UUID         `json:"id"`
	Fields    map[string]string `json:"fields"`
	Reviewed  map[string]bool   `json:"reviewed"`
	Removed   []Removal         `json:"removed"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// sealed is what the draft column holds (encrypted).
type sealed struct {
	Fields      map[string]string `json:"fields"`
	Reviewed    map[string]bool   `json:"reviewed"`
	Removed     []Removal         `json:"removed"`
	Identifiers []string          `json:"identifiers"`
}

// Published is a case of the district's bank.
type Published struct {
	ID          uuid.UUID         `json:"id"`
	Title       string            `json:"title"`
	Fields      map[string]string `json:"fields"`
	PublishedAt time.Time         `json:"published_at"`
}

var channelNames = map[string]string{"walk_in": "来访", "scheduled": "预约面谈", "phone": "电话", "online": "线上", "letter": "书信", "mailbox": "信箱"}

// Draft drafts a teaching case from a closed case file of the school.
func (s *Service) Draft(ctx context.Context, a scope.Actor, school, caseFile uuid.UUID) (Draft, error) {
	var out Draft
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var (
			status, name, number, gender, homeroom, grade, schoolName, schoolKind string
			birth, opened                                                         time.Time
			guardians                                                             []struct{ Name, Phone string }
		)
		if err := tx.QueryRow(ctx, `SELECT c.status, c.opened_at, st.name, st.student_number, st.gender, st.birth_date, h.name, g.name, sc.name, sc.kind, st.guardians
			FROM case_files c JOIN students st ON st.school_id = c.school_id AND st.id = c.student_id
			JOIN org_units h ON h.school_id = st.school_id AND h.id = st.homeroom_id
			JOIN org_units g ON g.school_id = st.school_id AND g.id = st.grade_id
			JOIN schools sc ON sc.id = c.school_id
			WHERE c.school_id = $1 AND c.id = $2`, school, caseFile).Scan(&status, &opened, &name, &number, &gender, &birth, &homeroom, &grade,
			&schoolName, &schoolKind, &guardians); err != nil {
			return database.MapError(err)
		}
		if status != "closed" {
			return fault.New(fault.Conflict, "only a closed case file can become a teaching case")
		}
		ids := []identifier{{"student_name", name, "[学生]"}, {"student_number", number, "[学号]"}, {"homeroom", homeroom, "[班级]"},
			{"grade", grade, "[年级]"}, {"school", schoolName, "[学校]"}}
		if r := []rune(name); len(r) >= 3 {
			ids = append(ids, identifier{"student_name", string(r[1:]), "[学生]"})
		}
		for _, g := range guardians {
			ids = append(ids, identifier{"guardian_name", g.Name, "[家长]"}, identifier{"phone", g.Phone, "[电话]"})
		}
		rows, err := tx.Query(ctx, `SELECT DISTINCT u.display_name FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.school_id = $1 AND m.scope_type = 'school'`, school)
		if err != nil {
			return database.MapError(err)
		}
		staff, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return database.MapError(err)
		}
		for _, n := range staff {
			ids = append(ids, identifier{"staff_name", n, "[教师]"})
		}
		red := newRedactor(ids)

		type session struct {
			at                time.Time
			channel           string
			minutes           int
			categories        []string
			summary, nextStep []byte
		}
		rows, err = tx.Query(ctx, `SELECT occurred_at, channel, duration_minutes, categories, summary, next_steps FROM counseling_sessions
			WHERE school_id = $1 AND case_file_id = $2 ORDER BY occurred_at, id`, school, caseFile)
		if err != nil {
			return database.MapError(err)
		}
		sessions, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (session, error) {
			var x session
			return x, r.Scan(&x.at, &x.channel, &x.minutes, &x.categories, &x.summary, &x.nextStep)
		})
		if err != nil {
			return database.MapError(err)
		}
		counts := map[string]int{}
		var process []string
		for i, x := range sessions {
			for _, c := range x.categories {
				counts[c]++
			}
			week := int(x.at.Sub(sessions[0].at).Hours()/24/7) + 1
			line := fmt.Sprintf("第%d次（第%d周，%s，%d分钟）：", i+1, week, channelNames[x.channel], x.minutes)
			for _, p := range []struct {
				purpose string
				b       []byte
				prefix  string
			}{{"session.summary", x.summary, ""}, {"session.next_steps", x.nextStep, " 后续："}} {
				if p.b == nil {
					continue
				}
				plain, err := s.Cipher.Decrypt(ctx, tx, school, p.purpose, p.b)
				if err != nil {
					return fault.Wrap(err, "decrypt "+p.purpose)
				}
				line += p.prefix + red.clean(string(plain))
			}
			process = append(process, line)
		}
		var categoryNames []string
		if len(counts) > 0 {
			codes := make([]string, 0, len(counts))
			for c := range counts {
				codes = append(codes, c)
			}
			slices.SortFunc(codes, func(x, y string) int { return counts[y] - counts[x] })
			rows, err := tx.Query(ctx, `SELECT code, name_zh FROM concern_categories WHERE district_id = $1 AND code = ANY ($2)`, a.DistrictID, codes)
			if err != nil {
				return database.MapError(err)
			}
			names := map[string]string{}
			for rows.Next() {
				var c, n string
				if err := rows.Scan(&c, &n); err != nil {
					rows.Close()
					return database.MapError(err)
				}
				names[c] = n
			}
			for _, c := range codes {
				if n := names[c]; n != "" {
					categoryNames = append(categoryNames, n)
				}
			}
		}
		age := opened.Year() - birth.Year()
		if opened.YearDay() < birth.YearDay() {
			age--
		}
		stage := "中职"
		if schoolKind != "vocational" {
			switch {
			case age < 12:
				stage = "小学"
			case age < 15:
				stage = "初中"
			default:
				stage = "高中"
			}
		}
		sex := map[string]string{"male": "男生", "female": "女生"}[gender]
		main := "心理困扰"
		if len(categoryNames) > 0 {
			main = categoryNames[0]
		}
		weeks := 0
		if len(sessions) > 0 {
			weeks = int(sessions[len(sessions)-1].at.Sub(sessions[0].at).Hours()/24/7) + 1
		}
		fields := map[string]string{
			"title":              fmt.Sprintf("一例%s%s%s个案", stage, sex, main),
			"background":         fmt.Sprintf("%s，%s，约%d岁。", stage+sex, "在读", age),
			"presenting_concern": strings.Join(categoryNames, "、"),
			"process":            strings.Join(process, "\n"),
			"outcome":            fmt.Sprintf("共会谈%d次，历时约%d周，个案已结案。", len(sessions), weeks),
			"reflection":         "",
		}
		reviewed := map[string]bool{}
		for _, f := range Fields {
			reviewed[f] = false
		}
		literals := make([]string, 0, len(red.ids))
		for _, id := range red.ids {
			literals = append(literals, id.text)
		}
		seal := sealed{Fields: fields, Reviewed: reviewed, Removed: red.removals(), Identifiers: literals}
		b, err := json.Marshal(seal)
		if err != nil {
			return fault.Wrap(err, "encode draft")
		}
		enc, err := s.Cipher.Encrypt(ctx, tx, school, purposeDraft, b)
		if err != nil {
			return err
		}
		id := uuid.Must(uuid.NewV7())
		if _, err := tx.Exec(ctx, `INSERT INTO teaching_cases (district_id, id, status, school_id, author_id, draft) VALUES ($1, $2, 'draft', $3, $4, $5)`,
			a.DistrictID, id, school, a.UserID, enc); err != nil {
			return database.MapError(err)
		}
		if out, err = s.draft(ctx, tx, a, school, id); err != nil {
			return err
		}
		// The only link from the teaching case to its original file.
		return audit.Record(ctx, tx, a, audit.Entry{Action: "teaching_cases.draft", ObjectType: "teaching_case", ObjectID: id.String(),
			Reason: "drafted from case file " + caseFile.String()})
	})
	return out, err
}

func (s *Service) load(ctx context.Context, tx pgx.Tx, a scope.Actor, school, id uuid.UUID) (sealed, time.Time, time.Time, error) {
	var enc []byte
	var created, updated time.Time
	if err := tx.QueryRow(ctx, `SELECT draft, created_at, updated_at FROM teaching_cases WHERE district_id = $1 AND id = $2 AND school_id = $3 AND status = 'draft'`,
		a.DistrictID, id, school).Scan(&enc, &created, &updated); err != nil {
		return sealed{}, created, updated, database.MapError(err)
	}
	plain, err := s.Cipher.Decrypt(ctx, tx, school, purposeDraft, enc)
	if err != nil {
		return sealed{}, created, updated, fault.Wrap(err, "decrypt draft")
	}
	var x sealed
	if err := json.Unmarshal(plain, &x); err != nil {
		return sealed{}, created, updated, fault.Wrap(err, "decode draft")
	}
	return x, created, updated, nil
}

func (s *Service) draft(ctx context.Context, tx pgx.Tx, a scope.Actor, school, id uuid.UUID) (Draft, error) {
	x, created, updated, err := s.load(ctx, tx, a, school, id)
	if err != nil {
		return Draft{}, err
	}
	return Draft{ID: id, Fields: x.Fields, Reviewed: x.Reviewed, Removed: x.Removed, CreatedAt: created, UpdatedAt: updated}, nil
}

// Drafts lists the caller's drafts.
func (s *Service) Drafts(ctx context.Context, a scope.Actor, school uuid.UUID) ([]Draft, error) {
	out := []Draft{}
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM teaching_cases WHERE district_id = $1 AND school_id = $2 AND status = 'draft' ORDER BY created_at DESC LIMIT 100`, a.DistrictID, school)
		if err != nil {
			return database.MapError(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return database.MapError(err)
		}
		for _, id := range ids {
			d, err := s.draft(ctx, tx, a, school, id)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "teaching_cases.list_drafts", ObjectType: "teaching_case"})
	})
	return out, err
}

// ReviewInput changes fields of a draft and marks fields reviewed.
type ReviewInput struct {
	Fields   map[string]string `json:"fields"`
	Reviewed map[string]bool   `json:"reviewed"`
}

// Review saves the author's edits and review marks. A field edited without being marked
// reviewed again loses its mark.
func (s *Service) Review(ctx context.Context, a scope.Actor, school, id uuid.UUID, in ReviewInput) (Draft, error) {
	var f []fault.FieldError
	for k, v := range in.Fields {
		if !slices.Contains(Fields, k) {
			f = append(f, fault.Field("fields."+k, "invalid_value", "no such field"))
		} else if utf8.RuneCountInString(v) > 20000 || (k == "title" && utf8.RuneCountInString(v) > 200) {
			f = append(f, fault.Field("fields."+k, "too_long", "too long"))
		}
	}
	for k := range in.Reviewed {
		if !slices.Contains(Fields, k) {
			f = append(f, fault.Field("reviewed."+k, "invalid_value", "no such field"))
		}
	}
	if len(f) > 0 {
		return Draft{}, fault.Validation(f...)
	}
	var out Draft
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		x, _, _, err := s.load(ctx, tx, a, school, id)
		if err != nil {
			return err
		}
		for k, v := range in.Fields {
			if x.Fields[k] != v {
				x.Fields[k] = v
				x.Reviewed[k] = false
			}
		}
		for k, v := range in.Reviewed {
			x.Reviewed[k] = v
		}
		if err := s.save(ctx, tx, a, school, id, x); err != nil {
			return err
		}
		if out, err = s.draft(ctx, tx, a, school, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "teaching_cases.review", ObjectType: "teaching_case", ObjectID: id.String()})
	})
	return out, err
}

func (s *Service) save(ctx context.Context, tx pgx.Tx, a scope.Actor, school, id uuid.UUID, x sealed) error {
	b, err := json.Marshal(x)
	if err != nil {
		return fault.Wrap(err, "encode draft")
	}
	enc, err := s.Cipher.Encrypt(ctx, tx, school, purposeDraft, b)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE teaching_cases SET draft = $4, updated_at = now() WHERE district_id = $1 AND id = $2 AND school_id = $3 AND status = 'draft'`,
		a.DistrictID, id, school, enc)
	return database.MapError(err)
}

// Publish publishes a reviewed draft to the district's case bank: every field reviewed,
// none holding an identifier of the original; the school, the author and the sealed
// draft are dropped.
func (s *Service) Publish(ctx context.Context, a scope.Actor, school, id uuid.UUID) (Published, error) {
	var out Published
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		x, _, _, err := s.load(ctx, tx, a, school, id)
		if err != nil {
			return err
		}
		var f []fault.FieldError
		for _, k := range Fields {
			if !x.Reviewed[k] {
				f = append(f, fault.Field("reviewed."+k, "not_reviewed", "review this field before publishing"))
			} else if l := leftover(x.Identifiers, x.Fields[k]); l != "" {
				f = append(f, fault.Field("fields."+k, "identifier_left", "still holds an identifier: "+l))
			}
		}
		if strings.TrimSpace(x.Fields["title"]) == "" {
			f = append(f, fault.Field("fields.title", "required", "a title is required"))
		}
		if len(f) > 0 {
			return fault.Validation(f...)
		}
		fields := map[string]string{}
		for _, k := range Fields[1:] {
			fields[k] = x.Fields[k]
		}
		js, err := json.Marshal(fields)
		if err != nil {
			return fault.Wrap(err, "encode fields")
		}
		if _, err := tx.Exec(ctx, `UPDATE teaching_cases SET status = 'published', school_id = NULL, author_id = NULL, draft = NULL,
			title = $4, fields = $5, published_at = now(), updated_at = now() WHERE district_id = $1 AND id = $2 AND school_id = $3 AND status = 'draft'`,
			a.DistrictID, id, school, strings.TrimSpace(x.Fields["title"]), js); err != nil {
			return database.MapError(err)
		}
		if err := tx.QueryRow(ctx, `SELECT published_at FROM teaching_cases WHERE district_id = $1 AND id = $2`, a.DistrictID, id).Scan(&out.PublishedAt); err != nil {
			return database.MapError(err)
		}
		out.ID, out.Title, out.Fields = id, strings.TrimSpace(x.Fields["title"]), fields
		return audit.Record(ctx, tx, a, audit.Entry{Action: "teaching_cases.publish", ObjectType: "teaching_case", ObjectID: id.String()})
	})
	return out, err
}

// Discard deletes a draft.
func (s *Service) Discard(ctx context.Context, a scope.Actor, school, id uuid.UUID) error {
	return s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM teaching_cases WHERE district_id = $1 AND id = $2 AND school_id = $3 AND status = 'draft'`, a.DistrictID, id, school)
		if err != nil {
			return database.MapError(err)
		}
		if tag.RowsAffected() == 0 {
			return fault.New(fault.NotFound, "not found")
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "teaching_cases.discard", ObjectType: "teaching_case", ObjectID: id.String()})
	})
}

// Bank lists the district's published teaching cases, newest first.
func (s *Service) Bank(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Published, error) {
	var out []Published
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, title, fields, published_at FROM teaching_cases WHERE district_id = $1 AND status = 'published'
			ORDER BY published_at DESC, id LIMIT 500`, district)
		if err != nil {
			return database.MapError(err)
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Published, error) {
			var p Published
			return p, r.Scan(&p.ID, &p.Title, &p.Fields, &p.PublishedAt)
		}); err != nil {
			return database.MapError(err)
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "teaching_cases.list", ObjectType: "teaching_case"})
	})
	return out, err
}
