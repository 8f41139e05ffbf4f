package types

import (
	errorsmod "cosmossdk.io/errors"
)

// ValidState reports whether s is a state a stored challenge can have.
func ValidState(s ChallengeState) bool {
	return s > ChallengeStateUnspecified && s <= ChallengeStateCancelled
}

// IsOpen reports whether s waits for the provider (a commit or a reveal).
func IsOpen(s ChallengeState) bool {
	return s == ChallengeStatePendingCommit || s == ChallengeStateCommitted
}

// NextDeadline returns the header time (unix ms) of the challenge's pending
// deadline and whether it has one (only open challenges do).
func (c Challenge) NextDeadline() (int64, bool) {
	switch c.State {
	case ChallengeStatePendingCommit:
		return c.CommitDeadlineMs, true
	case ChallengeStateCommitted:
		return c.RevealDeadlineMs, true
	default:
		return 0, false
	}
}

// GraceBlocks is how many blocks after the issuing block (for a commit) or
// after the commit's block (for a reveal, which needs the next block's hash)
// accept the message whatever their header time: a stalled or slow chain
// never makes an answer impossible.
const (
	CommitGraceBlocks int64 = 1
	RevealGraceBlocks int64 = 2
)

// CommitOnTime reports whether a commit in a block at height h with header
// time nowMs meets the challenge's deadline.
func (c Challenge) CommitOnTime(h, nowMs int64) bool {
	return nowMs <= c.CommitDeadlineMs || h <= c.IssuedHeight+CommitGraceBlocks
}

// RevealOnTime reports whether a reveal in a block at height h with header
// time nowMs meets the challenge's deadline.
func (c Challenge) RevealOnTime(h, nowMs int64) bool {
	return nowMs <= c.RevealDeadlineMs || h <= c.CommitHeight+RevealGraceBlocks
}

// Validate checks the stateless invariants of a stored challenge.
func (c Challenge) Validate() error {
	switch {
	case c.Id == 0:
		return errorsmod.Wrap(ErrInvalidChallenge, "id 0")
	case c.Provider == "":
		return errorsmod.Wrap(ErrInvalidChallenge, "empty provider")
	case !ValidState(c.State):
		return errorsmod.Wrapf(ErrInvalidChallenge, "state %s", c.State)
	case len(c.Seed) != 32:
		return errorsmod.Wrapf(ErrInvalidChallenge, "seed of %d bytes", len(c.Seed))
	case c.WindowHeight < 0 || c.IssuedHeight < c.WindowHeight:
		return errorsmod.Wrapf(ErrInvalidChallenge, "issued at %d in window %d", c.IssuedHeight, c.WindowHeight)
	case c.CommitDeadlineMs <= c.IssuedTimeMs:
		return errorsmod.Wrapf(ErrInvalidChallenge, "commit deadline %d ms not after issue at %d ms", c.CommitDeadlineMs, c.IssuedTimeMs)
	}
	if err := c.ProofSize.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidChallenge, "size: %s", err)
	}
	committed := c.State == ChallengeStateCommitted || c.State == ChallengeStatePassed ||
		c.State == ChallengeStateFailed || c.State == ChallengeStateMissedReveal
	if committed {
		if len(c.Root) != RootLen || c.CommitHeight < c.IssuedHeight || c.RevealDeadlineMs <= c.IssuedTimeMs {
			return errorsmod.Wrapf(ErrInvalidChallenge, "committed challenge with root of %d bytes at height %d", len(c.Root), c.CommitHeight)
		}
	} else if c.State == ChallengeStatePendingCommit || c.State == ChallengeStateMissedCommit {
		if len(c.Root) != 0 || c.CommitHeight != 0 || c.RevealDeadlineMs != 0 {
			return errorsmod.Wrap(ErrInvalidChallenge, "uncommitted challenge with a root")
		}
	}
	if IsOpen(c.State) != (c.FinishedHeight == 0) {
		return errorsmod.Wrap(ErrInvalidChallenge, "finished_height must be set exactly when the challenge is finished")
	}
	return nil
}

// Validate checks the stateless invariants of a record.
func (r Record) Validate() error {
	if r.Provider == "" {
		return errorsmod.Wrap(ErrInvalidAddress, "empty provider")
	}
	if r.Score < 0 || r.Score > MaxScore {
		return errorsmod.Wrapf(ErrInvalidGenesis, "score %d not in [0, %d]", r.Score, MaxScore)
	}
	return nil
}

// PassScore is the score after a pass: score - score/16 + 625, at most 10000.
func PassScore(score int64) int64 {
	return min(score-score/16+PassBonus, MaxScore)
}

// MissScore is the score after a missed challenge: score - score/8.
func MissScore(score int64) int64 {
	return score - score/8
}

// Validate checks the stateless invariants of a GPU status.
func (g GPUStatus) Validate() error {
	if g.Provider == "" {
		return errorsmod.Wrap(ErrInvalidAddress, "empty provider")
	}
	if g.GpuUuid == "" {
		return errorsmod.Wrap(ErrInvalidGenesis, "empty gpu uuid")
	}
	if g.DockedThroughHeight < 0 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "docked_through_height %d", g.DockedThroughHeight)
	}
	return nil
}
