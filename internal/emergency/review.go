package emergency

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/audit"
	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Review is a grant in the district's review queue: the grant, its school, the reason
// the grantee gave (decrypted for the reviewing district administrator) and the verdict.
type Review struct {
	Grant
	SchoolName    string     `json:"school_name"`
	Reason        string     `json:"reason"`
	ReviewedBy    *uuid.UUID `json:"reviewed_by"`
	ReviewerName  *string    `json:"reviewer_name"`
	ReviewComment *string    `json:"review_comment"`
}

const reviewColumns = grantColumns + `, s.name, g.reason, g.reviewed_by, g.reviewer_name, g.review_comment`

type rawReview struct {
	Review
	reason []byte
}

func scanReview(r pgx.CollectableRow) (rawReview, error) {
	var x rawReview
	return x, r.Scan(append(x.targets(), &x.SchoolName, &x.reason, &x.ReviewedBy, &x.ReviewerName, &x.ReviewComment)...)
}

func (s *Service) reviews(ctx context.Context, tx pgx.Tx, district uuid.UUID, where string, args ...any) ([]Review, error) {
	rows, err := tx.Query(ctx, `SELECT `+reviewColumns+` FROM emergency_grants g JOIN schools s ON s.id = g.school_id
		WHERE s.district_id = $1 AND `+where+` ORDER BY g.verdict IS NOT NULL, g.granted_at DESC, g.id DESC LIMIT 500`,
		append([]any{district}, args...)...)
	if err != nil {
		return nil, database.MapError(err)
	}
	list, err := pgx.CollectRows(rows, scanReview)
	if err != nil {
		return nil, database.MapError(err)
	}
	out := make([]Review, 0, len(list))
	for _, x := range list {
		p, err := s.Cipher.Decrypt(ctx, tx, x.SchoolID, "emergency.reason", x.reason)
		if err != nil {
			return nil, fault.Wrap(err, "decrypt emergency.reason")
		}
		x.Reason = string(p)
		out = append(out, x.Review)
	}
	return out, nil
}

// Reviews lists the district's grants for review: open ones first, then closed ones,
// newest first. Only district administrators reach it; the listing is audited.
func (s *Service) Reviews(ctx context.Context, a scope.Actor, district uuid.UUID) ([]Review, error) {
	var out []Review
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var err error
		if out, err = s.reviews(ctx, tx, district, `true`); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "emergency_reviews.list", ObjectType: "emergency_grant"})
	})
	return out, err
}

// Verdict is a district administrator's decision on a grant.
type Verdict struct {
	Verdict string `json:"verdict"`
	Comment string `json:"comment"`
}

func (v *Verdict) validate() error {
	v.Comment = strings.TrimSpace(v.Comment)
	var f []fault.FieldError
	if !slices.Contains(Verdicts, v.Verdict) {
		f = append(f, fault.Field("verdict", "invalid_value", "verdict must be justified or not_justified"))
	}
	if v.Comment == "" {
		f = append(f, fault.Field("comment", "required", "a comment is required"))
	} else if utf8.RuneCountInString(v.Comment) > 2000 {
		f = append(f, fault.Field("comment", "too_long", "at most 2,000 characters"))
	}
	if len(f) > 0 {
		return fault.Validation(f...)
	}
	return nil
}

// Close records the verdict on a grant of the district. A grant is reviewed once:
// closing it again is a conflict. A grant of another district is not found.
func (s *Service) Close(ctx context.Context, a scope.Actor, district, grant uuid.UUID, v Verdict) (Review, error) {
	if err := v.validate(); err != nil {
		return Review{}, err
	}
	var out Review
	err := s.DB.InTx(ctx, a, func(tx pgx.Tx) error {
		var school uuid.UUID
		var verdict *string
		if err := tx.QueryRow(ctx, `SELECT g.school_id, g.verdict FROM emergency_grants g JOIN schools s ON s.id = g.school_id
			WHERE s.district_id = $1 AND g.id = $2 FOR UPDATE OF g`, district, grant).Scan(&school, &verdict); err != nil {
			return database.MapError(err)
		}
		if verdict != nil {
			return fault.New(fault.Conflict, "the grant has already been reviewed")
		}
		var name string
		if err := tx.QueryRow(ctx, `SELECT display_name FROM users WHERE id = $1`, a.UserID).Scan(&name); err != nil {
			return database.MapError(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE emergency_grants SET verdict = $3, review_comment = $4, reviewed_by = $5, reviewer_name = $6, reviewed_at = now()
			WHERE school_id = $1 AND id = $2`, school, grant, v.Verdict, v.Comment, a.UserID, name); err != nil {
			return database.MapError(err)
		}
		list, err := s.reviews(ctx, tx, district, `g.id = $2`, grant)
		if err != nil {
			return err
		}
		if len(list) != 1 {
			return fault.New(fault.NotFound, "not found")
		}
		out = list[0]
		return audit.Record(ctx, tx, a, audit.Entry{Action: "emergency_reviews.close", ObjectType: "emergency_grant", ObjectID: grant.String(),
			Reason: "verdict " + v.Verdict})
	})
	return out, err
}
