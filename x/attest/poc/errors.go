package poc

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (test with errors.Is); the wrapped message says what was wrong. The
// chain maps each sentinel to one registered error code.
var (
	// ErrBadParams reports that Params.Validate failed.
	ErrBadParams = errors.New("poc: invalid params")
	// ErrMalformed reports bytes that do not decode under the strict encoding
	// (wrong version, truncated, trailing bytes) or a nil opening or reveal.
	ErrMalformed = errors.New("poc: malformed encoding")
	// ErrTooLarge reports an encoding or a field above its hard bound (input
	// longer than MaxRevealSize, more than MaxSamples openings, a Merkle path
	// deeper than MaxPathDepth).
	ErrTooLarge = errors.New("poc: encoding too large")
	// ErrCountMismatch reports a reveal whose number of openings differs from
	// Params.Samples.
	ErrCountMismatch = errors.New("poc: wrong number of openings")
	// ErrWrongPosition reports an opening that is not at the sampled position
	// (or at a position outside the instance), or openings out of sampling
	// order.
	ErrWrongPosition = errors.New("poc: opening at wrong position")
	// ErrBadPath reports a Merkle path of the wrong depth or one that does not
	// lead from the opened leaf to the committed instance root.
	ErrBadPath = errors.New("poc: bad merkle path")
	// ErrWrongValue reports an opened entry that differs from the recomputed
	// dot product. The Merkle path was valid, so this is proof that the
	// committed product is wrong: fraud.
	ErrWrongValue = errors.New("poc: wrong value")
	// ErrNotCommitted reports a Prover asked to open before Commit.
	ErrNotCommitted = errors.New("poc: prover has not committed")
	// ErrSampling reports that sampling did not find Params.Samples distinct
	// positions within its iteration bound. With valid params the probability
	// is below 2^-1000; the outcome is deterministic either way.
	ErrSampling = errors.New("poc: sampling exhausted its iteration bound")
)
