// Package page owns cursor pagination: opaque cursors, page-size limits and the page
// envelope every list endpoint returns.
package page

import (
	"encoding/base64"
	"fmt"

	"github.com/xinqiao/xinqiao/internal/fault"
)

// DefaultSize and MaxSize bound every list endpoint.
const (
	DefaultSize = 50
	MaxSize     = 200
)

// Page is one page of items and the cursor of the next page (nil at the end).
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Request is a requested page: an opaque cursor and a size.
type Request struct {
	Cursor string
	Limit  int
}

// Size validates the requested size and applies the default.
func (r Request) Size() (int, error) {
	switch {
	case r.Limit == 0:
		return DefaultSize, nil
	case r.Limit < 0 || r.Limit > MaxSize:
		return 0, fault.Validation(fault.Field("limit", "out_of_range", fmt.Sprintf("limit must be between 1 and %d", MaxSize)))
	}
	return r.Limit, nil
}

// After decodes the cursor into the sort key it encodes ("" for the first page).
func (r Request) After() (string, error) {
	if r.Cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(r.Cursor)
	if err != nil || len(b) < 2 || b[0] != 'k' || b[1] != ':' {
		return "", fault.Validation(fault.Field("cursor", "invalid_format", "the cursor is not valid"))
	}
	return string(b[2:]), nil
}

// Cursor encodes a sort key.
func Cursor(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("k:" + key))
}

// Build cuts items (fetched with size+1) to size and sets the next cursor from the
// last kept item's key.
func Build[T any](items []T, size int, key func(T) string) Page[T] {
	p := Page[T]{Items: items}
	if len(items) > size {
		p.Items = items[:size]
		c := Cursor(key(p.Items[size-1]))
		p.NextCursor = &c
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}

// MapCursor replaces the next cursor by f(cursor) (the transport seals it).
func (p *Page[T]) MapCursor(f func(string) string) {
	if p.NextCursor != nil {
		c := f(*p.NextCursor)
		p.NextCursor = &c
	}
}
