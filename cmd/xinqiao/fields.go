package main

import "github.com/xinqiao/xinqiao/internal/fault"

func faultFields(err error) ([]fault.FieldError, bool) {
	fe, ok := fault.As(err)
	if !ok || len(fe.Fields) == 0 {
		return nil, false
	}
	return fe.Fields, true
}
