package keyring

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
)

// formatSecret marks a secret sealed directly under a master key (SealSecret).
const formatSecret = 3

// SealSecret seals a small secret that belongs to no school (a user's TOTP secret) under
// the current master key. purpose and owner are bound into the ciphertext, so it cannot
// be moved to another column or another user. The master key id is kept with it: after a
// master key rotation the secret still opens while the old key is listed in
// XINQIAO_MASTER_KEY_PREVIOUS, and is sealed again under the new key when it is next written.
func (k *Keyring) SealSecret(purpose string, owner uuid.UUID, plaintext []byte) ([]byte, error) {
	if len(k.current) > 255 {
		return nil, errors.New("keyring: master key id too long")
	}
	sealed, err := seal(k.masters[k.current], plaintext, secretAAD(purpose, owner))
	if err != nil {
		return nil, err
	}
	out := append([]byte{formatSecret, byte(len(k.current))}, k.current...)
	return append(out, sealed...), nil
}

// OpenSecret opens what SealSecret sealed for the same purpose and owner.
func (k *Keyring) OpenSecret(purpose string, owner uuid.UUID, sealed []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != formatSecret || len(sealed) < 2+int(sealed[1]) {
		return nil, errors.New("keyring: not a sealed secret")
	}
	id := string(sealed[2 : 2+int(sealed[1])])
	master, ok := k.masters[id]
	if !ok {
		return nil, fmt.Errorf("keyring: master key %q is not configured", id)
	}
	return open(master, sealed[2+int(sealed[1]):], secretAAD(purpose, owner))
}

func secretAAD(purpose string, owner uuid.UUID) []byte {
	return []byte("xinqiao-secret|" + purpose + "|" + owner.String())
}

// What `xinqiao keys rotate` seals again besides the school data keys: secrets sealed
// directly under a master key. The purposes and additional data must match the packages
// that seal them (identity: the TOTP secrets; research: the longitudinal keys).
const (
	PurposeTOTP       = "user.totp_secret"
	researchKeyPrefix = "xinqiao-research-key|"
)

// SecretsRotated counts what RotateSecrets sealed again.
type SecretsRotated struct {
	TOTP, Research int
}

// RotateSecrets seals every secret that is not under the current master key again
// under it: users' TOTP secrets (user_mfa) and the districts' longitudinal research
// keys (research_keys). tx must run with app.scope = 'keys'. A secret whose master key
// is not configured fails the rotation (nothing is changed).
func (k *Keyring) RotateSecrets(ctx context.Context, tx pgx.Tx) (SecretsRotated, error) {
	var n SecretsRotated
	rows, err := tx.Query(ctx, `SELECT district_id, user_id, secret_sealed FROM user_mfa FOR UPDATE`)
	if err != nil {
		return n, database.MapError(err)
	}
	type totpRow struct {
		district, user uuid.UUID
		sealed         []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (totpRow, error) {
		var x totpRow
		return x, r.Scan(&x.district, &x.user, &x.sealed)
	})
	if err != nil {
		return n, database.MapError(err)
	}
	for _, r := range list {
		if len(r.sealed) >= 2 && len(r.sealed) >= 2+int(r.sealed[1]) && string(r.sealed[2:2+int(r.sealed[1])]) == k.current {
			continue
		}
		plain, err := k.OpenSecret(PurposeTOTP, r.user, r.sealed)
		if err != nil {
			return n, fmt.Errorf("keyring: TOTP secret of user %s: %w", r.user, err)
		}
		again, err := k.SealSecret(PurposeTOTP, r.user, plain)
		clear(plain)
		if err != nil {
			return n, err
		}
		if _, err := tx.Exec(ctx, `UPDATE user_mfa SET secret_sealed = $3 WHERE district_id = $1 AND user_id = $2`, r.district, r.user, again); err != nil {
			return n, database.MapError(err)
		}
		n.TOTP++
	}

	rows, err = tx.Query(ctx, `SELECT district_id, master_key_id, sealed FROM research_keys WHERE master_key_id <> $1 FOR UPDATE`, k.current)
	if err != nil {
		return n, database.MapError(err)
	}
	type researchRow struct {
		district uuid.UUID
		master   string
		sealed   []byte
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (researchRow, error) {
		var x researchRow
		return x, r.Scan(&x.district, &x.master, &x.sealed)
	})
	if err != nil {
		return n, database.MapError(err)
	}
	for _, r := range keys {
		aad := []byte(researchKeyPrefix + r.district.String())
		plain, err := k.Open(r.master, r.sealed, aad)
		if err != nil {
			return n, fmt.Errorf("keyring: research key of district %s: %w", r.district, err)
		}
		master, again, err := k.Seal(plain, aad)
		clear(plain)
		if err != nil {
			return n, err
		}
		if _, err := tx.Exec(ctx, `UPDATE research_keys SET master_key_id = $2, sealed = $3 WHERE district_id = $1`, r.district, master, again); err != nil {
			return n, database.MapError(err)
		}
		n.Research++
	}
	return n, nil
}
