// Package fault defines the few kinds of error the domain reports. Transport layers map
// kinds to responses in one place; messages of internal errors never reach clients.
package fault

import (
	"errors"
	"fmt"
)

// Kind classifies an error for callers.
type Kind string

// The kinds of domain error.
const (
	Malformed        Kind = "malformed"          // the request cannot be parsed
	Invalid          Kind = "invalid"            // input fails validation
	NotFound         Kind = "not_found"          // missing, or belongs to another tenant
	Conflict         Kind = "conflict"           // violates a uniqueness or state rule
	Forbidden        Kind = "forbidden"          // authenticated but not allowed
	Unauthenticated  Kind = "unauthenticated"    // no valid credentials
	RateLimited      Kind = "rate_limited"       // too many attempts
	Unsupported      Kind = "unsupported"        // unsupported media type
	MethodNotAllowed Kind = "method_not_allowed" // the path exists, the method does not
	TooLarge         Kind = "too_large"          // payload too large
	Gone             Kind = "gone"               // existed, but expired or withdrawn for good
	Unavailable      Kind = "unavailable"        // a dependency is down
	Internal         Kind = "internal"           // anything else
)

// FieldError names one invalid input field (or file row and column).
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is a domain error: a kind, a message safe to show, and optional field errors.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind with a message safe to show to clients.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Validation returns an Invalid error carrying field errors.
func Validation(fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Message: "the request is not valid", Fields: fields}
}

// Field is a shorthand for a FieldError on a named field.
func Field(name, code, message string) FieldError {
	return FieldError{Field: name, Code: code, Message: message}
}

// Wrap turns an unexpected error into an Internal one, keeping the cause for logs.
func Wrap(err error, context string) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) {
		return err
	}
	return &Error{Kind: Internal, Message: context, Err: err}
}

// Down says a dependency failed: err itself when it already is an Unavailable error
// (which says why, e.g. the store is full), else an Unavailable error with message.
func Down(err error, message string) error {
	if KindOf(err) == Unavailable {
		return err
	}
	return &Error{Kind: Unavailable, Message: message, Err: err}
}

// KindOf reports the kind of err; Internal for errors that are not domain errors.
func KindOf(err error) Kind {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return Internal
}

// As returns the domain error inside err, if any.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}
