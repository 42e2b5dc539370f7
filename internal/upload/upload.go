// Package upload holds the checks every stored file goes through, whatever it is for
// (case-file documents, plan evidence, library documents): the size cap, the type
// detected from the content against an allowlist (never the client's word), image
// metadata (EXIF and the like) stripped, the SHA-256 of the stored bytes, and a safe
// download name.
package upload

import (
	"crypto/sha256"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// DefaultMaxBytes is the size cap of a file when none is configured (20 MiB).
const DefaultMaxBytes = 20 << 20

// Rules are what one kind of file accepts.
type Rules struct {
	MaxBytes int64    // size cap; 0 means DefaultMaxBytes
	Types    []string // allowed content types; empty means every type Detect knows
	// Noun and TypeNames word the refusal of a type: "<Noun> must be a <TypeNames> file".
	Noun      string // "the file" when empty
	TypeNames string // e.g. "PDF, JPEG, PNG, WEBP or DOCX"
}

// Limit is the effective size cap.
func (r Rules) Limit() int64 {
	if r.MaxBytes > 0 {
		return r.MaxBytes
	}
	return DefaultMaxBytes
}

// File is content that passed the checks, ready to store.
type File struct {
	Data        []byte // metadata stripped
	ContentType string
	SHA256      [32]byte // of Data
}

// Size is the stored size in bytes.
func (f File) Size() int64 { return int64(len(f.Data)) }

// Read reads content up to the size cap and checks it: not empty (422), not too large
// (413), of an allowed type (415), an image that can be read (422). Nothing is stored.
func Read(content io.Reader, r Rules) (File, error) {
	limit := r.Limit()
	data, err := io.ReadAll(io.LimitReader(content, limit+1))
	if err != nil {
		return File{}, fault.New(fault.Malformed, "the file could not be read")
	}
	if len(data) == 0 {
		return File{}, fault.Validation(fault.Field("file", "required", "the file is empty"))
	}
	if int64(len(data)) > limit {
		return File{}, &fault.Error{Kind: fault.TooLarge, Message: fmt.Sprintf("the file is larger than %d bytes", limit),
			Fields: []fault.FieldError{fault.Field("file", "too_large", fmt.Sprintf("at most %d bytes", limit))}}
	}
	ct := Detect(data)
	if ct == "" || (len(r.Types) > 0 && !slices.Contains(r.Types, ct)) {
		noun := r.Noun
		if noun == "" {
			noun = "the file"
		}
		return File{}, &fault.Error{Kind: fault.Unsupported, Message: noun + " must be a " + r.TypeNames + " file",
			Fields: []fault.FieldError{fault.Field("file", "unsupported_type", r.TypeNames+" only")}}
	}
	if data, err = StripMetadata(ct, data); err != nil {
		return File{}, fault.Validation(fault.Field("file", "invalid_format", "the image cannot be read"))
	}
	return File{Data: data, ContentType: ct, SHA256: sha256.Sum256(data)}, nil
}

// Filename makes a safe download name: the base name without control characters, at
// most 120 characters, with the extension of the detected type; fallback when nothing
// is left of the name.
func Filename(name, contentType, fallback string) string {
	name = strings.ToValidUTF8(name, "")
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|`, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > 120 {
		name = string(r[:120])
	}
	ext := Extensions[contentType]
	switch e := strings.ToLower(path.Ext(name)); {
	case name == "" || name == "." || name == "..":
		return fallback + ext
	case e == ext || (contentType == TypeJPEG && e == ".jpeg"):
		return name
	}
	return name + ext
}
