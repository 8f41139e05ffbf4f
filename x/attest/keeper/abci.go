package keeper

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/crucible-network/crucible/internal/heightqueue"
	"github.com/crucible-network/crucible/x/attest/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// headerHash returns the current block's header hash.
func headerHash(ctx sdk.Context) []byte {
	if h := ctx.HeaderHash(); len(h) > 0 {
		return h
	}
	return ctx.HeaderInfo().Hash
}

// BeginBlocker stores the block's header hash (pruning at most
// types.PruneHashesPerBlock hashes older than params.block_hash_retention),
// starts a window at every multiple of params.window_blocks, and examines up
// to params.max_schedule_gpus_per_block GPUs of the current window for
// challenges. Its work is bounded by params, never by the number of
// providers, GPUs or challenges.
func (k Keeper) BeginBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	h := sdkCtx.BlockHeight()
	hash := headerHash(sdkCtx)
	if err := k.recordBlockHash(ctx, h, hash, params.BlockHashRetention); err != nil {
		return err
	}
	if h > 0 && uint64(h)%params.WindowBlocks == 0 {
		if err := k.startWindow(ctx, h, hash); err != nil {
			return err
		}
	}
	return k.schedule(ctx, params)
}

// recordBlockHash stores hash at h and deletes hashes at heights <= h -
// retention, a few per block.
func (k Keeper) recordBlockHash(ctx context.Context, h int64, hash []byte, retention uint64) error {
	if hash == nil {
		hash = []byte{}
	}
	if err := k.BlockHashes.Set(ctx, h, hash); err != nil {
		return err
	}
	cutoff := h - int64(retention)
	if cutoff < 1 {
		return nil
	}
	rng := new(collections.Range[int64]).EndInclusive(cutoff)
	iter, err := k.BlockHashes.Iterate(ctx, rng)
	if err != nil {
		return err
	}
	var old []int64
	for ; iter.Valid() && len(old) < types.PruneHashesPerBlock; iter.Next() {
		key, err := iter.Key()
		if err != nil {
			iter.Close()
			return err
		}
		old = append(old, key)
	}
	iter.Close()
	for _, height := range old {
		if err := k.BlockHashes.Remove(ctx, height); err != nil {
			return err
		}
	}
	return nil
}

// startWindow resets the schedule cursor to a new window at height h. A
// previous window whose schedule had not examined every active GPU is
// abandoned (EventWindowStarted.previous_incomplete).
func (k Keeper) startWindow(ctx context.Context, h int64, hash []byte) error {
	prev, err := k.getCursor(ctx)
	if err != nil {
		return err
	}
	cur := types.ScheduleCursor{WindowHeight: h, WindowHash: append([]byte(nil), hash...)}
	if err := k.Cursor.Set(ctx, cur); err != nil {
		return err
	}
	incomplete := prev.WindowHeight > 0 && !prev.Done
	if incomplete {
		k.Logger(ctx).Error("challenge schedule of the previous window did not reach every GPU; raise max_schedule_gpus_per_block",
			"window", prev.WindowHeight)
	}
	return emit(ctx, &types.EventWindowStarted{Height: h, HeaderHash: hex.EncodeToString(hash), PreviousIncomplete: incomplete})
}

func (k Keeper) getCursor(ctx context.Context) (types.ScheduleCursor, error) {
	c, err := k.Cursor.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return types.ScheduleCursor{}, nil
	}
	return c, err
}

// schedule examines the next params.max_schedule_gpus_per_block GPUs of the
// current window's ACTIVE providers, in store key order then GPU index, and
// challenges each one whose draw falls under params.challenge_rate_bps. The
// cap counts GPUs, not providers, so one block issues at most that many
// challenges however the GPUs are spread; a provider's GPUs may be split
// across blocks (cursor.next_gpu_index). A provider without GPUs counts as
// one, so every provider read is paid for.
func (k Keeper) schedule(ctx context.Context, params types.Params) error {
	cur, err := k.getCursor(ctx)
	if err != nil {
		return err
	}
	if cur.WindowHeight == 0 || cur.Done {
		return nil
	}
	if params.ChallengeRateBps == 0 {
		// Nothing can be drawn: close the window without walking providers.
		cur.NextProvider, cur.NextGpuIndex, cur.Done = nil, 0, true
		return k.Cursor.Set(ctx, cur)
	}
	budget := params.MaxScheduleGpusPerBlock
	// Every provider fetched costs at least one unit of budget, so budget
	// providers are enough to spend it.
	providers, next, err := k.providers.ProvidersFrom(ctx, cur.NextProvider, budget)
	if err != nil {
		return err
	}
	var first uint32
	for i, p := range providers {
		owner, err := k.decodeAddress("provider owner", p.Owner)
		if err != nil {
			return err
		}
		// Resume inside the cursor's provider only if it is still the first
		// one (it may have left the active set since the last block).
		if i == 0 && bytes.Equal(owner, cur.NextProvider) {
			first = cur.NextGpuIndex
		}
		if budget == 0 {
			cur.NextProvider, cur.NextGpuIndex = owner, 0
			return k.Cursor.Set(ctx, cur)
		}
		if p.Status != providertypes.ProviderStatusActive || len(p.Gpus) == 0 || int(first) >= len(p.Gpus) {
			budget-- // read, nothing (left) to examine
			first = 0
			continue
		}
		for gi := first; int(gi) < len(p.Gpus); gi++ {
			if budget == 0 {
				cur.NextProvider, cur.NextGpuIndex = owner, gi
				return k.Cursor.Set(ctx, cur)
			}
			budget--
			if !types.IsChallenged(params.ChallengeRateBps, cur.WindowHash, owner, gi) {
				continue
			}
			if _, err := k.issue(ctx, params, cur, p.Owner, owner, gi, p.Gpus[gi]); err != nil {
				return err
			}
		}
		first = 0
	}
	cur.NextProvider, cur.NextGpuIndex = next, 0
	cur.Done = len(next) == 0
	return k.Cursor.Set(ctx, cur)
}

// issue creates a challenge for GPU gi of owner in the cursor's window.
func (k Keeper) issue(ctx context.Context, params types.Params, cur types.ScheduleCursor, ownerStr string, owner sdk.AccAddress, gi uint32, g providertypes.GPU) (uint64, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	id, err := k.NextChallengeID.Next(ctx)
	if err != nil {
		return 0, err
	}
	if id == 0 { // never initialized by genesis: ids start at 1
		if id, err = k.NextChallengeID.Next(ctx); err != nil {
			return 0, err
		}
	}
	h := sdkCtx.BlockHeight()
	seed := types.ChallengeSeed(sdkCtx.ChainID(), cur.WindowHeight, cur.WindowHash, owner, gi)
	size := params.SizeFor(g.Class)
	c := types.Challenge{
		Id:             id,
		Provider:       ownerStr,
		GpuUuid:        g.Uuid,
		GpuIndex:       gi,
		Class:          g.Class,
		ProofSize:      size,
		Seed:           seed[:],
		WindowHeight:   cur.WindowHeight,
		IssuedHeight:   h,
		CommitDeadline: h + int64(params.CommitWindowBlocks),
		State:          types.ChallengeStatePendingCommit,
	}
	c.RevealDeadline = c.CommitDeadline + int64(params.RevealWindowBlocks)
	if err := k.Challenges.Set(ctx, id, c); err != nil {
		return 0, err
	}
	if err := k.Deadlines.Set(ctx, collections.Join(c.CommitDeadline, id)); err != nil {
		return 0, err
	}
	return id, emit(ctx, &types.EventChallengeIssued{
		Id: id, Provider: ownerStr, GpuUuid: g.Uuid, GpuIndex: gi, Class: g.Class, ProofSize: size,
		Seed: hex.EncodeToString(seed[:]), WindowHeight: cur.WindowHeight, IssuedHeight: h,
		CommitDeadline: c.CommitDeadline, RevealDeadline: c.RevealDeadline,
	})
}

// EndBlocker processes up to params.max_expiries_per_block due deadlines
// (height <= now), oldest first; the rest wait for the next block. A pending
// commit past its deadline is a missed commit; a commit not revealed by its
// reveal deadline is fraud (MISSED_REVEAL). Each entry runs in a cached
// context: if applying its consequences fails, the error is logged, the
// challenge still ends in its missed state without them, and the queue
// moves on. Then finished challenges past their retention are pruned.
func (k Keeper) EndBlocker(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	now := blockHeight(ctx)
	keys, err := heightqueue.Due(ctx, k.Deadlines, now, params.MaxExpiriesPerBlock)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if err := k.Deadlines.Remove(ctx, key); err != nil {
			return err
		}
		c, err := k.GetChallenge(ctx, key.K2())
		if errors.Is(err, types.ErrChallengeNotFound) {
			continue
		} else if err != nil {
			return err
		}
		d, open := c.NextDeadline()
		if !open || d != key.K1() {
			continue // stale entry
		}
		state := types.ChallengeStateMissedCommit
		if c.State == types.ChallengeStateCommitted {
			state = types.ChallengeStateMissedReveal
		}
		k.inCache(ctx, c, state, func(cctx context.Context) error {
			if state == types.ChallengeStateMissedCommit {
				return k.missCommit(cctx, c, params)
			}
			return k.fraud(cctx, c, state, "reveal deadline passed")
		})
	}
	return k.pruneFinished(ctx, params, now)
}

// pruneFinished deletes finished challenges whose finished_height is at
// least params.finished_retention_blocks old, oldest first, at most
// params.max_schedule_gpus_per_block of them: as many as a block can issue,
// so the queue never grows faster than it drains. Retention 0 keeps them.
func (k Keeper) pruneFinished(ctx context.Context, params types.Params, now int64) error {
	if params.FinishedRetentionBlocks == 0 || now <= int64(params.FinishedRetentionBlocks) {
		return nil
	}
	keys, err := heightqueue.Due(ctx, k.Finished, now-int64(params.FinishedRetentionBlocks), params.MaxScheduleGpusPerBlock)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	for _, key := range keys {
		if err := k.Finished.Remove(ctx, key); err != nil {
			return err
		}
		if err := k.Challenges.Remove(ctx, key.K2()); err != nil && !errors.Is(err, collections.ErrNotFound) {
			return err
		}
	}
	return emit(ctx, &types.EventChallengesPruned{Count: uint32(len(keys)), FinishedThrough: keys[len(keys)-1].K1()})
}

// inCache runs fn in a cached context and writes it on success. On failure
// it logs and ends the challenge in state without consequences.
func (k Keeper) inCache(ctx context.Context, c types.Challenge, state types.ChallengeState, fn func(context.Context) error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	cctx, write := sdkCtx.CacheContext()
	err := fn(cctx)
	if err == nil {
		write()
		return
	}
	k.Logger(ctx).Error("applying a challenge deadline failed; ending it without consequences",
		"id", c.Id, "provider", c.Provider, "state", state.String(), "err", err)
	c.Failure = "consequences failed: " + err.Error()
	cctx, write = sdkCtx.CacheContext()
	if err := k.finish(cctx, &c, state); err != nil {
		k.Logger(ctx).Error("ending challenge failed", "id", c.Id, "err", err)
		return
	}
	write()
}
