// Package screening owns the district's mental-health screening (心理测查): stored
// instrument versions (量表) and their licences, district campaigns (测查活动), guardian
// consent per campaign, one-time student codes, assessments scored on submit, and the
// alerts (预警) that bring a student who reports thoughts of self-harm to a counselor the
// same day, escalating to the school leader and the district supervisor when nobody
// acknowledges them. Scoring itself lives in internal/instrument.
package screening

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/scope"
)

// Cipher seals item answers with the school's data key (keyring.Keyring implements it).
type Cipher interface {
	Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error)
}

// CaseFiles opens (or finds) a student's case file inside the caller's transaction;
// casefile.Service implements it.
type CaseFiles interface {
	OpenInTx(ctx context.Context, tx pgx.Tx, a scope.Actor, school, student uuid.UUID) (uuid.UUID, error)
}

// Service is the screening service.
type Service struct {
	DB        *database.DB
	Cipher    Cipher
	CaseFiles CaseFiles
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

const purposeAnswers = "assessment.answers"

// SuppressBelow is the smallest count shown as a number in district views; smaller
// non-zero counts are shown as "<5".
const SuppressBelow = 5

// Count formats a count for a district view: "0", "<5" or the number.
func Count(n int64) string {
	if n > 0 && n < SuppressBelow {
		return "<5"
	}
	return strconv.FormatInt(n, 10)
}
