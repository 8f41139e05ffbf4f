package keeper

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/x/attest/poc"
	"github.com/crucible-network/crucible/x/attest/types"
	markettypes "github.com/crucible-network/crucible/x/market/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// GetChallenge returns challenge id; a missing one yields an error wrapping
// types.ErrChallengeNotFound.
func (k Keeper) GetChallenge(ctx context.Context, id uint64) (types.Challenge, error) {
	c, err := k.Challenges.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return c, errorsmod.Wrapf(types.ErrChallengeNotFound, "%d", id)
	}
	return c, err
}

// GetRecord returns the record of provider, or a zero record (with the
// provider's address set) when it has none.
func (k Keeper) GetRecord(ctx context.Context, provider sdk.AccAddress) (types.Record, error) {
	r, err := k.Records.Get(ctx, provider)
	if errors.Is(err, collections.ErrNotFound) {
		s, err := k.addressString(provider)
		return types.Record{Provider: s}, err
	}
	return r, err
}

// owned loads challenge id and checks that provider owns it.
func (k Keeper) owned(ctx context.Context, provider sdk.AccAddress, id uint64) (types.Challenge, error) {
	c, err := k.GetChallenge(ctx, id)
	if err != nil {
		return c, err
	}
	owner, err := k.decodeAddress("challenge provider", c.Provider)
	if err != nil {
		return c, err
	}
	if !owner.Equals(provider) {
		return c, errorsmod.Wrapf(types.ErrNotChallengeOwner, "challenge %d belongs to %s", id, c.Provider)
	}
	return c, nil
}

// CommitProof records the instance root of provider's pending challenge id.
// It returns the sample height (the block whose header hash seeds the
// sample) and the reveal deadline.
func (k Keeper) CommitProof(ctx context.Context, provider sdk.AccAddress, id uint64, root []byte) (int64, int64, error) {
	if len(root) != types.RootLen {
		return 0, 0, errorsmod.Wrapf(types.ErrInvalidRoot, "root of %d bytes, want %d", len(root), types.RootLen)
	}
	c, err := k.owned(ctx, provider, id)
	if err != nil {
		return 0, 0, err
	}
	if c.State != types.ChallengeStatePendingCommit {
		return 0, 0, errorsmod.Wrapf(types.ErrWrongState, "challenge %d is %s, want %s", id, c.State, types.ChallengeStatePendingCommit)
	}
	h := blockHeight(ctx)
	if h > c.CommitDeadline {
		return 0, 0, errorsmod.Wrapf(types.ErrCommitTooLate, "challenge %d: height %d is past the commit deadline %d", id, h, c.CommitDeadline)
	}
	if err := k.Deadlines.Remove(ctx, collections.Join(c.CommitDeadline, id)); err != nil {
		return 0, 0, err
	}
	c.State = types.ChallengeStateCommitted
	c.Root = append([]byte(nil), root...)
	c.CommitHeight = h
	if err := k.Challenges.Set(ctx, id, c); err != nil {
		return 0, 0, err
	}
	if err := k.Deadlines.Set(ctx, collections.Join(c.RevealDeadline, id)); err != nil {
		return 0, 0, err
	}
	return h + 1, c.RevealDeadline, emit(ctx, &types.EventProofCommitted{
		Id: id, Provider: c.Provider, Root: hex.EncodeToString(c.Root),
		CommitHeight: h, SampleHeight: h + 1, RevealDeadline: c.RevealDeadline,
	})
}

// RevealProof verifies provider's reveal for its committed challenge id.
//
// Order of work: ownership, state and deadline checks, the sample block's
// hash; then gas (params.RevealGas, by size, before any decoding); then the
// exact-size check (types.ErrRevealSize) and decoding
// (types.ErrMalformedReveal), which change nothing, so the provider may
// retry until the deadline; then poc.VerifyReveal. A reveal that verifies
// passes the challenge; one that decodes but does not verify (wrong count,
// position, path or value) is fraud: the state becomes FAILED, the penalties
// apply, and the call returns no error so that they persist.
func (k Keeper) RevealProof(ctx context.Context, provider sdk.AccAddress, id uint64, reveal []byte) (types.ChallengeState, string, error) {
	c, err := k.owned(ctx, provider, id)
	if err != nil {
		return 0, "", err
	}
	if c.State != types.ChallengeStateCommitted {
		return 0, "", errorsmod.Wrapf(types.ErrWrongState, "challenge %d is %s, want %s", id, c.State, types.ChallengeStateCommitted)
	}
	h := blockHeight(ctx)
	if h > c.RevealDeadline {
		return 0, "", errorsmod.Wrapf(types.ErrRevealTooLate, "challenge %d: height %d is past the reveal deadline %d", id, h, c.RevealDeadline)
	}
	sampleHash, err := k.BlockHashes.Get(ctx, c.CommitHeight+1)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, "", errorsmod.Wrapf(types.ErrSampleBlockUnknown, "challenge %d: header hash of height %d", id, c.CommitHeight+1)
	} else if err != nil {
		return 0, "", err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, "", err
	}
	sdk.UnwrapSDKContext(ctx).GasMeter().ConsumeGas(params.RevealGas(c.ProofSize, len(reveal)), "attest: reveal size and verification")

	p := c.ProofSize.PocParams()
	if want := poc.RevealSize(p); len(reveal) != want {
		return 0, "", errorsmod.Wrapf(types.ErrRevealSize, "challenge %d: reveal of %d bytes, want %d", id, len(reveal), want)
	}
	var r poc.Reveal
	if err := r.UnmarshalBinary(reveal); err != nil {
		return 0, "", errorsmod.Wrapf(types.ErrMalformedReveal, "challenge %d: %s", id, err)
	}
	var seed, root [32]byte
	copy(seed[:], c.Seed)
	copy(root[:], c.Root)
	verr := poc.VerifyReveal(p, seed, root, poc.SampleSeed(root, sampleHash), &r)
	if verr == nil {
		return types.ChallengeStatePassed, "", k.pass(ctx, c)
	}
	reg := fraudError(verr)
	if reg == nil {
		// Not a property of the reveal (invalid params, sampling bound): no
		// verdict, nothing changes.
		return 0, "", errorsmod.Wrapf(types.ErrProofInvalid, "challenge %d: %s", id, verr)
	}
	failure := fmt.Sprintf("%s (code %d): %s", reg.Error(), reg.ABCICode(), verr)
	return types.ChallengeStateFailed, failure, k.fraud(ctx, c, types.ChallengeStateFailed, failure)
}

// fraudError maps a poc verification error to the registered error that
// names it, or nil when the error is not a fault of the reveal.
func fraudError(err error) *errorsmod.Error {
	switch {
	case errors.Is(err, poc.ErrCountMismatch):
		return types.ErrProofCountMismatch
	case errors.Is(err, poc.ErrWrongPosition):
		return types.ErrProofWrongPosition
	case errors.Is(err, poc.ErrBadPath):
		return types.ErrProofBadPath
	case errors.Is(err, poc.ErrWrongValue):
		return types.ErrProofWrongValue
	case errors.Is(err, poc.ErrMalformed), errors.Is(err, poc.ErrTooLarge):
		return types.ErrMalformedReveal
	default:
		return nil
	}
}

// finish moves c to a final state at the current height, removes its
// pending deadline from the queue and queues it for pruning.
func (k Keeper) finish(ctx context.Context, c *types.Challenge, state types.ChallengeState) error {
	if d, ok := c.NextDeadline(); ok {
		if err := k.Deadlines.Remove(ctx, collections.Join(d, c.Id)); err != nil {
			return err
		}
	}
	c.State = state
	c.FinishedHeight = blockHeight(ctx)
	if err := k.Finished.Set(ctx, collections.Join(c.FinishedHeight, c.Id)); err != nil {
		return err
	}
	return k.Challenges.Set(ctx, c.Id, *c)
}

// lookupProvider returns the provider and whether it is still registered.
func (k Keeper) lookupProvider(ctx context.Context, owner sdk.AccAddress) (providertypes.Provider, bool, error) {
	p, err := k.providers.GetProvider(ctx, owner)
	if errors.Is(err, providertypes.ErrProviderNotFound) {
		return p, false, nil
	}
	return p, err == nil, err
}

// pass applies a passed challenge: record.passes++, consecutive misses
// reset, score <- score - score/16 + 625 (from the provider's current
// reputation), and the GPU marked verified when the provider still claims it
// with the same class.
func (k Keeper) pass(ctx context.Context, c types.Challenge) error {
	owner, err := k.decodeAddress("challenge provider", c.Provider)
	if err != nil {
		return err
	}
	if err := k.finish(ctx, &c, types.ChallengeStatePassed); err != nil {
		return err
	}
	rec, err := k.GetRecord(ctx, owner)
	if err != nil {
		return err
	}
	rec.Passes++
	rec.ConsecutiveMisses = 0
	prov, found, err := k.lookupProvider(ctx, owner)
	if err != nil {
		return err
	}
	base := rec.Score
	if found {
		base = prov.Reputation
	}
	rec.Score = types.PassScore(base)
	if found {
		if err := k.providers.SetReputation(ctx, owner, rec.Score, fmt.Sprintf("challenge %d passed", c.Id)); err != nil {
			return err
		}
		for _, g := range prov.Gpus {
			if g.Uuid == c.GpuUuid && g.Class == c.Class {
				if err := k.providers.MarkGPUVerified(ctx, owner, c.GpuUuid); err != nil {
					return err
				}
				break
			}
		}
	}
	if err := k.Records.Set(ctx, owner, rec); err != nil {
		return err
	}
	return emit(ctx, &types.EventChallengePassed{
		Id: c.Id, Provider: c.Provider, GpuUuid: c.GpuUuid, Passes: rec.Passes, Score: rec.Score,
	})
}

// missCommit applies a missed commit (a liveness fault): record.misses++,
// score <- score - score/8, and, while the provider is ACTIVE,
// consecutive_misses++; at params.max_missed the provider is jailed, its
// leases are closed (PROVIDER_JAILED, refunds through x/escrow) and the run
// restarts from 0.
func (k Keeper) missCommit(ctx context.Context, c types.Challenge, params types.Params) error {
	owner, err := k.decodeAddress("challenge provider", c.Provider)
	if err != nil {
		return err
	}
	if err := k.finish(ctx, &c, types.ChallengeStateMissedCommit); err != nil {
		return err
	}
	rec, err := k.GetRecord(ctx, owner)
	if err != nil {
		return err
	}
	rec.Misses++
	prov, found, err := k.lookupProvider(ctx, owner)
	if err != nil {
		return err
	}
	base := rec.Score
	if found {
		base = prov.Reputation
	}
	rec.Score = types.MissScore(base)
	var (
		jailed bool
		closed []uint64
	)
	if found {
		if err := k.providers.SetReputation(ctx, owner, rec.Score, fmt.Sprintf("challenge %d: commit missed", c.Id)); err != nil {
			return err
		}
		if prov.Status == providertypes.ProviderStatusActive {
			rec.ConsecutiveMisses++
			if rec.ConsecutiveMisses >= params.MaxMissed {
				reason := fmt.Sprintf("missed %d challenge commits in a row (last: challenge %d)", rec.ConsecutiveMisses, c.Id)
				if err := k.providers.Jail(ctx, owner, reason); err != nil {
					return err
				}
				jailed = true
				rec.ConsecutiveMisses = 0
				if closed, err = k.market.CloseProviderLeases(ctx, owner, markettypes.LeaseCloseReasonProviderJailed); err != nil {
					return err
				}
			}
		}
	}
	if err := k.Records.Set(ctx, owner, rec); err != nil {
		return err
	}
	return emit(ctx, &types.EventCommitMissed{
		Id: c.Id, Provider: c.Provider, GpuUuid: c.GpuUuid, ConsecutiveMisses: rec.ConsecutiveMisses,
		Score: rec.Score, Jailed: jailed, ClosedLeases: closed,
	})
}

// fraud applies the consequences of a missed reveal or a wrong opening, all in
// one place: c ends in state (MISSED_REVEAL or FAILED) with the reason;
// params.fraud_slash_bps of the bond is slashed, the GPU claims are dropped
// and the score set to 0 (x/provider); every active lease of the provider is
// closed with refunds (x/market, x/escrow); record.frauds++; and the
// provider's other open challenges are cancelled (bounded by its open
// challenges, at most one per GPU per window).
func (k Keeper) fraud(ctx context.Context, c types.Challenge, state types.ChallengeState, reason string) error {
	owner, err := k.decodeAddress("challenge provider", c.Provider)
	if err != nil {
		return err
	}
	c.Failure = reason
	if err := k.finish(ctx, &c, state); err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	_, found, err := k.lookupProvider(ctx, owner)
	if err != nil {
		return err
	}
	slashed := sdk.Coin{Amount: math.ZeroInt()}
	why := fmt.Sprintf("challenge %d: %s", c.Id, state)
	if found {
		if slashed, err = k.providers.Slash(ctx, owner, params.FraudSlashBps, why); err != nil {
			return err
		}
		if err := k.providers.DropGPUs(ctx, owner); err != nil {
			return err
		}
		if err := k.providers.SetReputation(ctx, owner, 0, why); err != nil {
			return err
		}
	}
	closed, err := k.market.CloseProviderLeases(ctx, owner, markettypes.LeaseCloseReasonProviderSlashed)
	if err != nil {
		return err
	}
	rec, err := k.GetRecord(ctx, owner)
	if err != nil {
		return err
	}
	rec.Frauds++
	rec.Score = 0
	if err := k.Records.Set(ctx, owner, rec); err != nil {
		return err
	}
	cancelled, err := k.cancelOpen(ctx, owner, c.Id)
	if err != nil {
		return err
	}
	return emit(ctx, &types.EventFraudDetected{
		Id: c.Id, Provider: c.Provider, GpuUuid: c.GpuUuid, State: state, Reason: reason,
		Slashed: slashed, ClosedLeases: closed, CancelledChallenges: cancelled, Frauds: rec.Frauds,
	})
}

// cancelOpen cancels every open challenge of owner, found through the
// (provider, state) index.
func (k Keeper) cancelOpen(ctx context.Context, owner sdk.AccAddress, fraudID uint64) ([]uint64, error) {
	var ids []uint64
	for _, st := range []types.ChallengeState{types.ChallengeStatePendingCommit, types.ChallengeStateCommitted} {
		iter, err := k.Challenges.Indexes.ByProviderState.MatchExact(ctx, collections.Join(owner, int32(st)))
		if err != nil {
			return nil, err
		}
		pks, err := iter.PrimaryKeys()
		if err != nil {
			return nil, err
		}
		ids = append(ids, pks...)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c, err := k.GetChallenge(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := k.finish(ctx, &c, types.ChallengeStateCancelled); err != nil {
			return nil, err
		}
		if err := emit(ctx, &types.EventChallengeCancelled{Id: id, Provider: c.Provider, FraudChallengeId: fraudID}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}
