package api

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes of the tenant API. Clients branch on Code, never on Message.
const (
	CodeBadRequest       = "bad_request"
	CodeMalformedAuth    = "malformed_auth"
	CodeUnauthenticated  = "unauthenticated"
	CodeAddressMismatch  = "address_mismatch"
	CodeBadSignature     = "bad_signature"
	CodeStaleTimestamp   = "stale_timestamp"
	CodeReplayedNonce    = "replayed_nonce"
	CodeNotTenant        = "not_tenant"
	CodeLeaseNotFound    = "lease_not_found"
	CodeNoJob            = "no_job"
	CodeNoResult         = "no_result"
	CodeNoFile           = "no_file"
	CodeNotFound         = "not_found"
	CodeBodyTooLarge     = "body_too_large"
	CodeManifestMismatch = "manifest_hash_mismatch"
	CodeBadManifest      = "bad_manifest"
	CodeAlreadySubmitted = "already_submitted"
	CodeLeaseInactive    = "lease_inactive"
	CodeLookupFailed     = "lease_lookup_failed"
	CodeBusy             = "busy"
	CodeInternal         = "internal"
)

// Error is the JSON body of every failed request, and the error the Client
// returns for one (with the HTTP status).
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("tenant api: %d %s: %s", e.Status, e.Code, e.Message)
}

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// writeError writes e as JSON.
func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":"internal","message":"cannot encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
