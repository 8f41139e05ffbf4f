package runner

import "errors"

// Sentinel errors; every error the runner returns for a refused request
// wraps one of them (test with errors.Is).
var (
	// ErrBadManifest reports a manifest that does not decode or validate.
	ErrBadManifest = errors.New("runner: invalid manifest")
	// ErrManifestHash reports a manifest whose SHA256 differs from the hash
	// the order carries.
	ErrManifestHash = errors.New("runner: manifest hash does not match the order")
	// ErrAlreadyStarted reports a second Start for a lease.
	ErrAlreadyStarted = errors.New("runner: lease already has a job")
	// ErrUnknownLease reports a lease the runner has no job for.
	ErrUnknownLease = errors.New("runner: no job for lease")
	// ErrNotRunning reports Cancel on a job that already ended.
	ErrNotRunning = errors.New("runner: job is not running")
	// ErrNoResult reports a result asked of a job that did not succeed.
	ErrNoResult = errors.New("runner: job has no result")
	// ErrNoFile reports a result file that is not in the result.
	ErrNoFile = errors.New("runner: no such result file")
	// ErrBadGPU reports an invalid GPU UUID.
	ErrBadGPU = errors.New("runner: invalid GPU UUID")
	// ErrClosed reports a call after Close.
	ErrClosed = errors.New("runner: closed")
)
