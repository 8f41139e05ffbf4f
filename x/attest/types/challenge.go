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

// NextDeadline returns the height of the challenge's pending deadline and
// whether it has one (only open challenges do).
func (c Challenge) NextDeadline() (int64, bool) {
	switch c.State {
	case ChallengeStatePendingCommit:
		return c.CommitDeadline, true
	case ChallengeStateCommitted:
		return c.RevealDeadline, true
	default:
		return 0, false
	}
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
	case c.CommitDeadline <= c.IssuedHeight || c.RevealDeadline <= c.CommitDeadline:
		return errorsmod.Wrapf(ErrInvalidChallenge, "deadlines %d, %d after issue at %d", c.CommitDeadline, c.RevealDeadline, c.IssuedHeight)
	}
	if err := c.ProofSize.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidChallenge, "size: %s", err)
	}
	committed := c.State == ChallengeStateCommitted || c.State == ChallengeStatePassed ||
		c.State == ChallengeStateFailed || c.State == ChallengeStateMissedReveal
	if committed {
		if len(c.Root) != RootLen || c.CommitHeight < c.IssuedHeight || c.CommitHeight > c.CommitDeadline {
			return errorsmod.Wrapf(ErrInvalidChallenge, "committed challenge with root of %d bytes at height %d", len(c.Root), c.CommitHeight)
		}
	} else if c.State == ChallengeStatePendingCommit || c.State == ChallengeStateMissedCommit {
		if len(c.Root) != 0 || c.CommitHeight != 0 {
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

// MissScore is the score after a missed commit: score - score/8.
func MissScore(score int64) int64 {
	return score - score/8
}
