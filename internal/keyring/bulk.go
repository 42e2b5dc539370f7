package keyring

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/google/uuid"
)

// Bulk sealing for synthetic data loads (`xinqiao seed synthetic`): the same formats,
// keys and bindings as Encrypt and EncryptFile, without a transaction, so a loader can
// COPY millions of sealed rows that the services read exactly like real ones.

// NewSchoolKey makes a fresh school data key and wraps it with the current master key,
// as dataKey does for version 1: the row to store in school_data_keys is
// (school, version, masterID, wrapped).
func (k *Keyring) NewSchoolKey(school uuid.UUID, version int) (key []byte, masterID string, wrapped []byte, err error) {
	key = make([]byte, 32)
	if _, err = rand.Read(key); err != nil {
		return nil, "", nil, err
	}
	wrapped, err = seal(k.masters[k.current], key, wrapAAD(school, version))
	return key, k.current, wrapped, err
}

// NewFileKey makes a fresh case-file key wrapped by the school key of version (the row
// to store in case_file_keys).
func NewFileKey(schoolKey []byte, school, caseFile uuid.UUID, version int) (key, wrapped []byte, err error) {
	key = make([]byte, 32)
	if _, err = rand.Read(key); err != nil {
		return nil, nil, err
	}
	wrapped, err = seal(schoolKey, key, fileWrapAAD(school, caseFile, version))
	return key, wrapped, err
}

// SealFile seals plaintext exactly as EncryptFile does with the case file's key.
func SealFile(fileKey []byte, school, caseFile uuid.UUID, purpose string, plaintext []byte) ([]byte, error) {
	sealed, err := seal(fileKey, plaintext, fileAAD(purpose, school, caseFile))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 17, 17+len(sealed))
	out[0] = formatFile
	copy(out[1:], caseFile[:])
	return append(out, sealed...), nil
}

// SealSchool seals plaintext exactly as Encrypt does with the school key of version.
func SealSchool(schoolKey []byte, version int, school uuid.UUID, purpose string, plaintext []byte) ([]byte, error) {
	sealed, err := seal(schoolKey, plaintext, []byte(purpose+"|"+school.String()))
	if err != nil {
		return nil, err
	}
	out := make([]byte, 5, 5+len(sealed))
	out[0] = 1
	binary.BigEndian.PutUint32(out[1:], uint32(version))
	return append(out, sealed...), nil
}
