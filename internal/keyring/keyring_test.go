package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/keyring"
	"github.com/xinqiao/xinqiao/internal/scope"
	"github.com/xinqiao/xinqiao/internal/testdb"
)

func masterKey(t *testing.T, id string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

func TestEncryptionAtRest(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	district, s1, s2 := uuid.New(), uuid.New(), uuid.New()
	if _, err := admin.Exec(ctx, `INSERT INTO districts (id, name, code) VALUES ($1, '区', 'kd')`, district); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO schools (id, district_id, name, code, kind) VALUES ($2, $1, '一', 'k1', 'k12'), ($3, $1, '二', 'k2', 'k12')`,
		district, s1, s2); err != nil {
		t.Fatal(err)
	}
	in := func(school uuid.UUID, fn func(tx pgx.Tx) error) error {
		return db.App.InTx(ctx, scope.Actor{DistrictID: district, SchoolID: school, Kind: scope.School}, fn)
	}
	keysScope := func(fn func(tx pgx.Tx) error) error {
		return db.App.InTx(ctx, scope.Actor{Kind: "keys"}, fn)
	}
	a := masterKey(t, "a")
	ringA, err := keyring.Parse(a, "")
	if err != nil {
		t.Fatal(err)
	}
	note := []byte("学生自述：最近睡不好，压力很大")
	var sealed []byte
	if err := in(s1, func(tx pgx.Tx) error {
		sealed, err = ringA.Encrypt(ctx, tx, s1, "session.note", note)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, note) || bytes.Contains(sealed, []byte("睡不好")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	readAs := func(ring *keyring.Keyring, school uuid.UUID, purpose string) ([]byte, error) {
		var out []byte
		err := in(school, func(tx pgx.Tx) error {
			var err error
			out, err = ring.Decrypt(ctx, tx, s1, purpose, sealed)
			return err
		})
		return out, err
	}
	if got, err := readAs(ringA, s1, "session.note"); err != nil || !bytes.Equal(got, note) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := readAs(ringA, s1, "session.private_note"); err == nil {
		t.Fatal("a ciphertext must not open under another purpose")
	}
	if _, err := readAs(ringA, s2, "session.note"); err == nil {
		t.Fatal("another school's scope must not reach the key (RLS)")
	}

	// Rotate the master key: keys are re-wrapped, the ciphertext is untouched, and the
	// old master key is no longer needed.
	b := masterKey(t, "b")
	ringAB, err := keyring.Parse(b, a)
	if err != nil {
		t.Fatal(err)
	}
	var moved int
	if err := keysScope(func(tx pgx.Tx) error { moved, err = ringAB.Rotate(ctx, tx); return err }); err != nil || moved != 1 {
		t.Fatalf("rotate: moved %d, %v", moved, err)
	}
	ringB, _ := keyring.Parse(b, "")
	if got, err := readAs(ringB, s1, "session.note"); err != nil || !bytes.Equal(got, note) {
		t.Fatalf("after rotation, with only the new master key: %v", err)
	}
	onlyA, _ := keyring.Parse(a, "")
	if _, err := readAs(onlyA, s1, "session.note"); err == nil {
		t.Fatal("the retired master key must no longer open the data key")
	}

	// Crypto-shred: once the school's keys are destroyed nobody reads the data again,
	// not even a process that had the key cached.
	if err := in(s1, func(tx pgx.Tx) error { return ringB.Shred(ctx, tx, s1) }); err != nil {
		t.Fatal(err)
	}
	fresh, _ := keyring.Parse(b, "")
	for _, ring := range []*keyring.Keyring{ringB, fresh} {
		if _, err := readAs(ring, s1, "session.note"); !errors.Is(err, keyring.ErrShredded) {
			t.Fatalf("after shredding: %v", err)
		}
	}
	var wrapped []byte
	if err := admin.QueryRow(ctx, `SELECT wrapped FROM school_data_keys WHERE school_id = $1`, s1).Scan(&wrapped); err != nil || wrapped != nil {
		t.Fatalf("the wrapped key must be gone: %v", err)
	}
}

func TestParseRejectsBadMasterKeys(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "nokey", "a:short", "a:" + base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		if _, err := keyring.Parse(bad, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// `keys rotate` also seals again what lives directly under a master key: the users'
// TOTP secrets and the districts' longitudinal research keys. Afterwards only the new
// master key is needed, and a second run has nothing left to do.
func TestRotateSealsTOTPSecretsAndResearchKeysAgain(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	district, user := uuid.New(), uuid.New()
	if _, err := admin.Exec(ctx, `INSERT INTO districts (id, name, code) VALUES ($1, '区', 'kr')`, district); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO users (id, district_id, username, display_name, password_hash) VALUES ($1, $2, 'rot.user', '用户', 'x')`,
		user, district); err != nil {
		t.Fatal(err)
	}
	a, b := masterKey(t, "a"), masterKey(t, "b")
	ringA, _ := keyring.Parse(a, "")
	totpSecret, researchKey := []byte("JBSWY3DPEHPK3PXP"), bytes.Repeat([]byte{7}, 32)
	aad := []byte("xinqiao-research-key|" + district.String())
	sealedTOTP, err := ringA.SealSecret(keyring.PurposeTOTP, user, totpSecret)
	if err != nil {
		t.Fatal(err)
	}
	master, sealedKey, err := ringA.Seal(researchKey, aad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO user_mfa (district_id, user_id, secret_sealed, confirmed_at) VALUES ($1, $2, $3, now())`,
		district, user, sealedTOTP); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `INSERT INTO research_keys (district_id, master_key_id, sealed) VALUES ($1, $2, $3)`, district, master, sealedKey); err != nil {
		t.Fatal(err)
	}
	ringAB, _ := keyring.Parse(b, a)
	rotate := func() keyring.SecretsRotated {
		var n keyring.SecretsRotated
		if err := db.App.InTx(ctx, scope.Actor{Kind: "keys"}, func(tx pgx.Tx) error {
			var err error
			n, err = ringAB.RotateSecrets(ctx, tx)
			return err
		}); err != nil {
			t.Fatalf("rotate: %v", err)
		}
		return n
	}
	if n := rotate(); n.TOTP != 1 || n.Research != 1 {
		t.Fatalf("first rotation moved %+v, want 1 and 1", n)
	}
	if n := rotate(); n.TOTP != 0 || n.Research != 0 {
		t.Fatalf("second rotation moved %+v, want nothing", n)
	}
	var gotTOTP, gotKey []byte
	var gotMaster string
	if err := admin.QueryRow(ctx, `SELECT secret_sealed FROM user_mfa WHERE user_id = $1`, user).Scan(&gotTOTP); err != nil {
		t.Fatal(err)
	}
	if err := admin.QueryRow(ctx, `SELECT master_key_id, sealed FROM research_keys WHERE district_id = $1`, district).Scan(&gotMaster, &gotKey); err != nil {
		t.Fatal(err)
	}
	onlyB, _ := keyring.Parse(b, "")
	if plain, err := onlyB.OpenSecret(keyring.PurposeTOTP, user, gotTOTP); err != nil || !bytes.Equal(plain, totpSecret) {
		t.Fatalf("the TOTP secret under the new master key only: %v", err)
	}
	if plain, err := onlyB.Open(gotMaster, gotKey, aad); err != nil || gotMaster != "b" || !bytes.Equal(plain, researchKey) {
		t.Fatalf("the research key under the new master key only (%s): %v", gotMaster, err)
	}
	onlyA, _ := keyring.Parse(a, "")
	if _, err := onlyA.OpenSecret(keyring.PurposeTOTP, user, gotTOTP); err == nil {
		t.Fatal("the retired master key must no longer open the TOTP secret")
	}
	// Outside the key maintenance scope the secrets are not reachable for rewriting.
	if err := db.App.InTx(ctx, scope.Actor{Kind: scope.District, DistrictID: district}, func(tx pgx.Tx) error {
		_, err := ringAB.RotateSecrets(ctx, tx)
		return err
	}); err != nil {
		t.Fatalf("a district scope sees nothing to rotate, so nothing fails: %v", err)
	}
}
