package config

import (
	"errors"
	"fmt"
)

// FieldError reports an invalid configuration value. Field is the YAML key
// path of the value, for example "chain.grpc_addr" or "bid.pricing[0].denom".
type FieldError struct {
	Field string
	Err   error
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %v", e.Field, e.Err)
}

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// fieldErrorf builds a FieldError for field with a formatted message.
func fieldErrorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// withPrefix prefixes the field path of a FieldError with section, so a
// section's ValidateBasic can report "grpc_addr" and the whole config reports
// "chain.grpc_addr". Errors that are not FieldErrors become one for section.
func withPrefix(section string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: section + "." + fe.Field, Err: fe.Err}
	}
	return &FieldError{Field: section, Err: err}
}
