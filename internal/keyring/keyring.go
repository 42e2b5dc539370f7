// Package keyring owns encryption at rest: per-school AES-256-GCM data keys, wrapped by
// a master key from the environment, with master-key rotation that re-wraps keys
// without touching data, and crypto-shredding of a school's keys. Case-file content is
// sealed under a key of its own (wrapped by the school's data key), so destroying one
// case file destroys its key too: any copy of its ciphertext becomes unreadable.
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/xinqiao/xinqiao/internal/database"
	"github.com/xinqiao/xinqiao/internal/fault"
)

// ErrShredded means the data key was destroyed: the data can never be read again.
var ErrShredded = errors.New("keyring: the data key has been destroyed")

// Keyring holds the master keys and a cache of unwrapped data keys.
type Keyring struct {
	current string
	masters map[string][]byte

	mu    sync.RWMutex
	cache map[dataKeyID][]byte
	files map[fileKeyID][]byte
}

type fileKeyID struct{ school, caseFile uuid.UUID }

type dataKeyID struct {
	school  uuid.UUID
	version int
}

// Parse reads master keys: current is "id:base64(32 bytes)"; previous holds older
// keys the same way, comma-separated, kept until `xinqiao keys rotate` has re-wrapped
// every data key.
func Parse(current, previous string) (*Keyring, error) {
	k := &Keyring{masters: map[string][]byte{}, cache: map[dataKeyID][]byte{}, files: map[fileKeyID][]byte{}}
	parse := func(s string) (string, error) {
		id, b64, ok := strings.Cut(strings.TrimSpace(s), ":")
		if !ok || id == "" {
			return "", fmt.Errorf("keyring: a master key is written id:base64")
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != 32 {
			return "", fmt.Errorf("keyring: master key %q must be 32 bytes, base64", id)
		}
		k.masters[id] = key
		return id, nil
	}
	id, err := parse(current)
	if err != nil {
		return nil, err
	}
	k.current = id
	if previous != "" {
		for _, p := range strings.Split(previous, ",") {
			if _, err := parse(p); err != nil {
				return nil, err
			}
		}
	}
	return k, nil
}

func seal(key, plaintext, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plaintext, aad), nil
}

func open(key, sealed, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("keyring: ciphertext too short")
	}
	return gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
}

func wrapAAD(school uuid.UUID, version int) []byte {
	return []byte(fmt.Sprintf("xinqiao-data-key|%s|%d", school, version))
}

// dataKey returns the school's newest data key (creating version 1 on first use) in tx,
// which must run in the school's scope.
func (k *Keyring) dataKey(ctx context.Context, tx pgx.Tx, school uuid.UUID) (int, []byte, error) {
	var version int
	var masterID string
	var wrapped []byte
	err := tx.QueryRow(ctx, `SELECT version, master_key_id, wrapped FROM school_data_keys
		WHERE school_id = $1 ORDER BY version DESC LIMIT 1`, school).Scan(&version, &masterID, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return 0, nil, err
		}
		w, err := seal(k.masters[k.current], key, wrapAAD(school, 1))
		if err != nil {
			return 0, nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO school_data_keys (school_id, version, master_key_id, wrapped) VALUES ($1, 1, $2, $3)
			ON CONFLICT DO NOTHING`, school, k.current, w); err != nil {
			return 0, nil, database.MapError(err)
		}
		return k.dataKey(ctx, tx, school) // read back whichever insert won
	}
	if err != nil {
		return 0, nil, database.MapError(err)
	}
	key, err := k.unwrap(school, version, masterID, wrapped)
	return version, key, err
}

func (k *Keyring) unwrap(school uuid.UUID, version int, masterID string, wrapped []byte) ([]byte, error) {
	id := dataKeyID{school, version}
	if wrapped == nil {
		k.forget(school)
		return nil, ErrShredded
	}
	k.mu.RLock()
	key, ok := k.cache[id]
	k.mu.RUnlock()
	if ok {
		return key, nil
	}
	master, ok := k.masters[masterID]
	if !ok {
		return nil, fmt.Errorf("keyring: master key %q is not configured", masterID)
	}
	key, err := open(master, wrapped, wrapAAD(school, version))
	if err != nil {
		return nil, fmt.Errorf("keyring: unwrap data key: %w", err)
	}
	k.mu.Lock()
	k.cache[id] = key
	k.mu.Unlock()
	return key, nil
}

func (k *Keyring) forget(school uuid.UUID) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for id := range k.cache {
		if id.school == school {
			delete(k.cache, id)
		}
	}
	for id := range k.files {
		if id.school == school {
			delete(k.files, id)
		}
	}
}

// Encrypt seals plaintext under the school's data key. purpose binds the ciphertext to
// its field (e.g. "session.note") so it cannot be moved to another column.
func (k *Keyring) Encrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error) {
	version, key, err := k.dataKey(ctx, tx, school)
	if err != nil {
		return nil, err
	}
	sealed, err := seal(key, plaintext, []byte(purpose+"|"+school.String()))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 5, 5+len(sealed))
	out[0] = 1 // format
	binary.BigEndian.PutUint32(out[1:], uint32(version))
	return append(out, sealed...), nil
}

// Decrypt opens what Encrypt or EncryptFile sealed (the format says which). It fails
// with ErrShredded once the school's or the case file's key is destroyed.
func (k *Keyring) Decrypt(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) >= 1+16 && ciphertext[0] == formatFile {
		return k.decryptFile(ctx, tx, school, purpose, ciphertext)
	}
	if len(ciphertext) < 5 || ciphertext[0] != 1 {
		return nil, fault.New(fault.Internal, "unknown ciphertext format")
	}
	version := int(binary.BigEndian.Uint32(ciphertext[1:5]))
	var masterID string
	var wrapped []byte
	if err := tx.QueryRow(ctx, `SELECT master_key_id, wrapped FROM school_data_keys WHERE school_id = $1 AND version = $2`,
		school, version).Scan(&masterID, &wrapped); err != nil {
		return nil, database.MapError(err)
	}
	key, err := k.unwrap(school, version, masterID, wrapped)
	if err != nil {
		return nil, err
	}
	return open(key, ciphertext[5:], []byte(purpose+"|"+school.String()))
}

// Rotate re-wraps every data key not wrapped by the current master key. Data is not
// re-encrypted. tx must run with app.scope = 'keys'. It returns how many keys moved.
func (k *Keyring) Rotate(ctx context.Context, tx pgx.Tx) (int, error) {
	rows, err := tx.Query(ctx, `SELECT school_id, version, master_key_id, wrapped FROM school_data_keys
		WHERE wrapped IS NOT NULL AND master_key_id <> $1 FOR UPDATE`, k.current)
	if err != nil {
		return 0, database.MapError(err)
	}
	type row struct {
		school  uuid.UUID
		version int
		master  string
		wrapped []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.school, &x.version, &x.master, &x.wrapped)
	})
	if err != nil {
		return 0, database.MapError(err)
	}
	for _, r := range list {
		key, err := k.unwrap(r.school, r.version, r.master, r.wrapped)
		if err != nil {
			return 0, err
		}
		w, err := seal(k.masters[k.current], key, wrapAAD(r.school, r.version))
		if err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `UPDATE school_data_keys SET wrapped = $3, master_key_id = $4 WHERE school_id = $1 AND version = $2`,
			r.school, r.version, w, k.current); err != nil {
			return 0, database.MapError(err)
		}
	}
	return len(list), nil
}

// Shred destroys every data key of a school: its encrypted data becomes unreadable.
func (k *Keyring) Shred(ctx context.Context, tx pgx.Tx, school uuid.UUID) error {
	if _, err := tx.Exec(ctx, `UPDATE school_data_keys SET wrapped = NULL, destroyed_at = now() WHERE school_id = $1 AND wrapped IS NOT NULL`, school); err != nil {
		return database.MapError(err)
	}
	k.forget(school)
	return nil
}

// formatFile marks a ciphertext sealed under a case file's key:
// [2][case file id, 16 bytes][nonce][sealed].
const formatFile = 2

func fileAAD(purpose string, school, caseFile uuid.UUID) []byte {
	return []byte(purpose + "|" + school.String() + "|" + caseFile.String())
}

func fileWrapAAD(school, caseFile uuid.UUID, version int) []byte {
	return []byte(fmt.Sprintf("xinqiao-case-file-key|%s|%s|%d", school, caseFile, version))
}

// fileKey returns the case file's key, creating it on first use, in tx (which must see
// the case file: the key row is visible exactly when the case file is).
func (k *Keyring) fileKey(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, create bool) ([]byte, error) {
	var version int
	var wrapped []byte
	err := tx.QueryRow(ctx, `SELECT school_key_version, wrapped FROM case_file_keys WHERE school_id = $1 AND case_file_id = $2`,
		school, caseFile).Scan(&version, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		k.mu.Lock()
		delete(k.files, fileKeyID{school, caseFile})
		k.mu.Unlock()
		if !create {
			return nil, ErrShredded
		}
		v, schoolKey, err := k.dataKey(ctx, tx, school)
		if err != nil {
			return nil, err
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		w, err := seal(schoolKey, key, fileWrapAAD(school, caseFile, v))
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO case_file_keys (school_id, case_file_id, school_key_version, wrapped) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, school, caseFile, v, w); err != nil {
			return nil, database.MapError(err)
		}
		return k.fileKey(ctx, tx, school, caseFile, false) // read back whichever insert won
	}
	if err != nil {
		return nil, database.MapError(err)
	}
	id := fileKeyID{school, caseFile}
	k.mu.RLock()
	key, ok := k.files[id]
	k.mu.RUnlock()
	if ok {
		return key, nil
	}
	var masterID string
	var schoolWrapped []byte
	if err := tx.QueryRow(ctx, `SELECT master_key_id, wrapped FROM school_data_keys WHERE school_id = $1 AND version = $2`,
		school, version).Scan(&masterID, &schoolWrapped); err != nil {
		return nil, database.MapError(err)
	}
	schoolKey, err := k.unwrap(school, version, masterID, schoolWrapped)
	if err != nil {
		return nil, err
	}
	if key, err = open(schoolKey, wrapped, fileWrapAAD(school, caseFile, version)); err != nil {
		return nil, fmt.Errorf("keyring: unwrap case file key: %w", err)
	}
	k.mu.Lock()
	k.files[id] = key
	k.mu.Unlock()
	return key, nil
}

// EncryptFile seals plaintext of one case file under the case file's own key, bound to
// its field and its case file. Destroying the case file destroys the key with it.
func (k *Keyring) EncryptFile(ctx context.Context, tx pgx.Tx, school, caseFile uuid.UUID, purpose string, plaintext []byte) ([]byte, error) {
	key, err := k.fileKey(ctx, tx, school, caseFile, true)
	if err != nil {
		return nil, err
	}
	sealed, err := seal(key, plaintext, fileAAD(purpose, school, caseFile))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 17, 17+len(sealed))
	out[0] = formatFile
	copy(out[1:], caseFile[:])
	return append(out, sealed...), nil
}

func (k *Keyring) decryptFile(ctx context.Context, tx pgx.Tx, school uuid.UUID, purpose string, ciphertext []byte) ([]byte, error) {
	caseFile, err := uuid.FromBytes(ciphertext[1:17])
	if err != nil {
		return nil, fault.New(fault.Internal, "unknown ciphertext format")
	}
	key, err := k.fileKey(ctx, tx, school, caseFile, false)
	if err != nil {
		return nil, err
	}
	return open(key, ciphertext[17:], fileAAD(purpose, school, caseFile))
}
