package keyring

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
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
