package httpapi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// Pagination cursors leave the API sealed: a domain service's cursor encodes the last
// sort key of a page (a student number, a username), so the transport encrypts it with
// AES-256-GCM under Server.CursorKey before it reaches a client, bound to the route, the
// user and the tenant that asked for it, and valid for cursorTTL. A client sees an
// opaque token that carries no name or number and works nowhere else.

// cursorTTL is how long a next-page cursor stays valid.
const cursorTTL = 12 * time.Hour

type cursorSealer struct{ gcm cipher.AEAD }

func newCursorSealer(key []byte) *cursorSealer {
	if len(key) != 32 {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // cursors of this process only (tests, a server without a key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &cursorSealer{gcm: gcm}
}

// cursorAAD binds a cursor to the route pattern, the user and the tenant of the call.
func cursorAAD(cl *call) []byte {
	return []byte("xinqiao-cursor|" + cl.Request.Method + " " + cl.FullPath() + "|" + cl.Principal.UserID.String() +
		"|" + cl.School.String() + "|" + cl.District.String())
}

func (cs *cursorSealer) seal(cl *call, raw string, now time.Time) string {
	plain := binary.BigEndian.AppendUint64(nil, uint64(now.Add(cursorTTL).Unix()))
	plain = append(plain, raw...)
	nonce := make([]byte, cs.gcm.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(cs.gcm.Seal(nonce, nonce, plain, cursorAAD(cl)))
}

var errBadCursor = fault.Validation(fault.Field("cursor", "invalid_format", "the cursor is not valid (ask for the first page again)"))

func (cs *cursorSealer) open(cl *call, sealed string, now time.Time) (string, error) {
	if sealed == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < cs.gcm.NonceSize()+cs.gcm.Overhead()+8 {
		return "", errBadCursor
	}
	n := cs.gcm.NonceSize()
	plain, err := cs.gcm.Open(nil, b[:n], b[n:], cursorAAD(cl))
	if err != nil || len(plain) < 8 || int64(binary.BigEndian.Uint64(plain[:8])) < now.Unix() {
		return "", errBadCursor
	}
	return string(plain[8:]), nil
}

// cursorPage is a page whose next cursor the transport seals (page.Page implements it).
type cursorPage interface {
	MapCursor(func(string) string)
}

// sealCursor seals the next cursor of v when v is a page.
func (cl *call) sealCursor(v any) {
	if p, ok := v.(cursorPage); ok && cl.cursors != nil {
		p.MapCursor(func(raw string) string { return cl.cursors.seal(cl, raw, time.Now()) })
	}
}

// openCursor returns the domain cursor inside a cursor this API sealed for this call.
func (cl *call) openCursor(sealed string) (string, error) {
	if cl.cursors == nil || sealed == "" {
		return sealed, nil
	}
	return cl.cursors.open(cl, sealed, time.Now())
}
