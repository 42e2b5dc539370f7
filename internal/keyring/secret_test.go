package keyring_test

import (
	"bytes"
	"testing"

	"github.com/google/uuid"

	"github.com/xinqiao/xinqiao/internal/keyring"
)

func TestSealedSecretsOpenOnlyForTheirPurposeAndOwnerAndSurviveRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := masterKey(t, "k1"), masterKey(t, "k2")
	ring, err := keyring.Parse(oldKey, "")
	if err != nil {
		t.Fatal(err)
	}
	owner := uuid.New()
	secret := []byte("JBSWY3DPEHPK3PXP")
	sealed, err := ring.SealSecret("user.totp_secret", owner, secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("the secret is readable in its sealed form")
	}
	if got, err := ring.OpenSecret("user.totp_secret", owner, sealed); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := ring.OpenSecret("user.totp_secret", uuid.New(), sealed); err == nil {
		t.Fatal("another owner opened the secret")
	}
	if _, err := ring.OpenSecret("other.purpose", owner, sealed); err == nil {
		t.Fatal("another purpose opened the secret")
	}
	if _, err := ring.OpenSecret("user.totp_secret", owner, []byte{3, 200}); err == nil {
		t.Fatal("a truncated secret opened")
	}
	rotated, err := keyring.Parse(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.OpenSecret("user.totp_secret", owner, sealed); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("after rotation the old key still opens: %v", err)
	}
	alone, _ := keyring.Parse(newKey, "")
	if _, err := alone.OpenSecret("user.totp_secret", owner, sealed); err == nil {
		t.Fatal("a ring without the sealing key opened the secret")
	}
}
