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
// sample) and the reveal deadline (header time, unix ms).
func (k Keeper) CommitProof(ctx context.Context, provider sdk.AccAddress, id uint64, root []byte) (int64, int64, error) {
	if len(root) != types.RootLen {
		return 0, 0, errorsmod.Wrapf(types.ErrInvalidRoot, "root of %d bytes, want %d", len(root), types.RootLen)
	}
	c, err := k.owned(ctx, provider, id)
	if err != nil {
		return 0, 0, err
	}
	if c.State == types.ChallengeStateMissedCommit {
		// The deadline passed and the chain has already recorded the miss:
		// the same answer as a commit in the deadline's own block.
		return 0, 0, errorsmod.Wrapf(types.ErrCommitTooLate, "challenge %d: commit deadline %d ms passed (missed)", id, c.CommitDeadlineMs)
	}
	if c.State != types.ChallengeStatePendingCommit {
		return 0, 0, errorsmod.Wrapf(types.ErrWrongState, "challenge %d is %s, want %s", id, c.State, types.ChallengeStatePendingCommit)
	}
	h, now := blockHeight(ctx), nowMs(ctx)
	if !c.CommitOnTime(h, now) {
		return 0, 0, errorsmod.Wrapf(types.ErrCommitTooLate, "challenge %d: header time %d ms is past the commit deadline %d ms", id, now, c.CommitDeadlineMs)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, 0, err
	}
	if err := k.Deadlines.Remove(ctx, collections.Join(c.CommitDeadlineMs, id)); err != nil {
		return 0, 0, err
	}
	c.State = types.ChallengeStateCommitted
	c.Root = append([]byte(nil), root...)
	c.CommitHeight = h
	c.RevealDeadlineMs = now + int64(params.RevealWindowMs)
	if err := k.Challenges.Set(ctx, id, c); err != nil {
		return 0, 0, err
	}
	if err := k.Deadlines.Set(ctx, collections.Join(c.RevealDeadlineMs, id)); err != nil {
		return 0, 0, err
	}
	return h + 1, c.RevealDeadlineMs, emit(ctx, &types.EventProofCommitted{
		Id: id, Provider: c.Provider, Root: hex.EncodeToString(c.Root),
		CommitHeight: h, SampleHeight: h + 1, RevealDeadlineMs: c.RevealDeadlineMs,
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
	if c.State == types.ChallengeStateMissedReveal {
		return 0, "", errorsmod.Wrapf(types.ErrRevealTooLate, "challenge %d: reveal deadline %d ms passed (missed)", id, c.RevealDeadlineMs)
	}
	if c.State != types.ChallengeStateCommitted {
		return 0, "", errorsmod.Wrapf(types.ErrWrongState, "challenge %d is %s, want %s", id, c.State, types.ChallengeStateCommitted)
	}
	h, now := blockHeight(ctx), nowMs(ctx)
	if !c.RevealOnTime(h, now) {
		return 0, "", errorsmod.Wrapf(types.ErrRevealTooLate, "challenge %d: header time %d ms is past the reveal deadline %d ms", id, now, c.RevealDeadlineMs)
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
// pending deadline (header time) from the queue and queues it for pruning.
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

// gpuStatus returns the liveness state of owner's GPU uuid (zero when none).
func (k Keeper) gpuStatus(ctx context.Context, owner sdk.AccAddress, uuid string) (types.GPUStatus, error) {
	st, err := k.GPUStatuses.Get(ctx, collections.Join(owner, uuid))
	if errors.Is(err, collections.ErrNotFound) {
		s, err := k.addressString(owner)
		return types.GPUStatus{Provider: s, GpuUuid: uuid}, err
	}
	return st, err
}

// pass applies a passed challenge: record.passes++, the GPU's miss run
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
	if err := k.GPUStatuses.Remove(ctx, collections.Join(owner, c.GpuUuid)); err != nil {
		return err
	}
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
		if g, ok := claimed(prov, c.GpuUuid); ok && g.Class == c.Class {
			if err := k.providers.MarkGPUVerified(ctx, owner, c.GpuUuid); err != nil {
				return err
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

// miss applies a missed challenge of one GPU (no commit by the commit
// deadline, or a commit never revealed): a liveness fault of that GPU, not
// fraud, so a hot key that commits junk and never reveals can cost its owner
// no more than not answering would.
//
//   - record.misses++, score <- score - score/8;
//   - the GPU's consecutive misses ++ (only its own pass resets them);
//   - if the GPU is leased, the tenant gets back what it paid for that GPU
//     since the GPU last proved itself (or since the last docking): from the
//     provider's unwithdrawn earnings, then from its bond (x/market);
//   - at params.max_missed consecutive misses the GPU's claim is dropped and
//     its lease closed with compensation (GPU_FAILED).
func (k Keeper) miss(ctx context.Context, c types.Challenge, state types.ChallengeState, params types.Params) error {
	owner, err := k.decodeAddress("challenge provider", c.Provider)
	if err != nil {
		return err
	}
	if err := k.finish(ctx, &c, state); err != nil {
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
	st, err := k.gpuStatus(ctx, owner, c.GpuUuid)
	if err != nil {
		return err
	}
	st.ConsecutiveMisses++
	var (
		docked  uint64
		dropped bool
		closed  []uint64
	)
	if found {
		if err := k.providers.SetReputation(ctx, owner, rec.Score, fmt.Sprintf("challenge %d: %s", c.Id, state)); err != nil {
			return err
		}
		if g, ok := claimed(prov, c.GpuUuid); ok {
			since := max(g.VerifiedHeight, st.DockedThroughHeight)
			if docked, err = k.market.DockGPU(ctx, owner, c.GpuUuid, since); err != nil {
				return err
			}
			if docked != 0 {
				st.DockedThroughHeight = blockHeight(ctx)
			}
			if st.ConsecutiveMisses >= params.MaxMissed {
				reason := fmt.Sprintf("gpu %s missed %d challenges in a row (last: challenge %d)", c.GpuUuid, st.ConsecutiveMisses, c.Id)
				if closed, err = k.market.CloseGPULease(ctx, owner, c.GpuUuid, markettypes.LeaseCloseReasonGPUFailed); err != nil {
					return err
				}
				if err := k.providers.RemoveGPU(ctx, owner, c.GpuUuid, reason); err != nil {
					return err
				}
				dropped = true
				rec.GpusDropped++
			}
		}
	}
	if dropped || !found {
		if err := k.GPUStatuses.Remove(ctx, collections.Join(owner, c.GpuUuid)); err != nil {
			return err
		}
	} else if err := k.GPUStatuses.Set(ctx, collections.Join(owner, c.GpuUuid), st); err != nil {
		return err
	}
	if err := k.Records.Set(ctx, owner, rec); err != nil {
		return err
	}
	return emit(ctx, &types.EventCommitMissed{
		Id: c.Id, Provider: c.Provider, GpuUuid: c.GpuUuid, ConsecutiveMisses: st.ConsecutiveMisses,
		Score: rec.Score, ClosedLeases: closed, MissedReveal: state == types.ChallengeStateMissedReveal,
		GpuDropped: dropped, DockedLease: docked,
	})
}

// claimed returns the provider's GPU uuid, if it still claims it.
func claimed(p providertypes.Provider, uuid string) (providertypes.GPU, bool) {
	for _, g := range p.Gpus {
		if g.Uuid == uuid {
			return g, true
		}
	}
	return providertypes.GPU{}, false
}

// fraud applies the consequences of a proven wrong opening (a reveal that
// decodes but does not verify), all in one place: c ends FAILED with the
// reason; every leased GPU's payments since it last proved itself are
// refunded to its tenant (earnings, then bond); every active lease is closed
// with compensation (PROVIDER_SLASHED: the winning bid's deposit goes to the
// tenant); then params.fraud_slash_bps of the remaining bond is burned, the
// provider jailed, its GPU claims dropped and its score set to 0;
// record.frauds++; and the provider's other open challenges are cancelled
// (bounded by its open challenges, at most one per GPU).
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
	prov, found, err := k.lookupProvider(ctx, owner)
	if err != nil {
		return err
	}
	if found {
		for _, g := range prov.Gpus {
			st, err := k.gpuStatus(ctx, owner, g.Uuid)
			if err != nil {
				return err
			}
			if _, err := k.market.DockGPU(ctx, owner, g.Uuid, max(g.VerifiedHeight, st.DockedThroughHeight)); err != nil {
				return err
			}
			if err := k.GPUStatuses.Remove(ctx, collections.Join(owner, g.Uuid)); err != nil {
				return err
			}
		}
	}
	closed, err := k.market.CloseProviderLeases(ctx, owner, markettypes.LeaseCloseReasonProviderSlashed)
	if err != nil {
		return err
	}
	slashed := sdk.Coin{Amount: math.ZeroInt()}
	why := fmt.Sprintf("challenge %d: %s", c.Id, state)
	if found {
		if slashed, err = k.providers.Slash(ctx, owner, params.FraudSlashBps, why); err != nil {
			return err
		}
		if prov.Status != providertypes.ProviderStatusUnbonding {
			if err := k.providers.Jail(ctx, owner, why); err != nil {
				return err
			}
		}
		if err := k.providers.DropGPUs(ctx, owner); err != nil {
			return err
		}
		if err := k.providers.SetReputation(ctx, owner, 0, why); err != nil {
			return err
		}
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
