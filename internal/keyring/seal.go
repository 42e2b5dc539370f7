package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
)

// Seal encrypts a small secret (a key kept by the district, e.g. the longitudinal
// research key) with the current master key; aad binds it to its owner and purpose. It
// returns the master key id to store next to the sealed bytes.
func (k *Keyring) Seal(plaintext, aad []byte) (string, []byte, error) {
	sealed, err := seal(k.masters[k.current], plaintext, aad)
	return k.current, sealed, err
}

// Open decrypts what Seal sealed with the master key masterID.
func (k *Keyring) Open(masterID string, sealed, aad []byte) ([]byte, error) {
	master, ok := k.masters[masterID]
	if !ok {
		return nil, fmt.Errorf("keyring: master key %q is not configured", masterID)
	}
	out, err := open(master, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: open sealed key: %w", err)
	}
	return out, nil
}

// Derive returns a 32-byte key for purpose, derived from the current master key
// (HMAC-SHA256). Every instance with the same master key derives the same key; it
// changes when the master key is rotated. For short-lived tokens (pagination cursors),
// never for data at rest.
func (k *Keyring) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.masters[k.current])
	m.Write([]byte("xinqiao-derive|" + purpose))
	return m.Sum(nil)
}
