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

// nowMs returns the block's header time in unix milliseconds (BFT time:
// the same on every validator).
func nowMs(ctx context.Context) int64 {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	t := sdkCtx.HeaderInfo().Time
	if t.IsZero() {
		t = sdkCtx.BlockTime()
	}
	return t.UnixMilli()
}

// BeginBlocker stores the block's header hash (pruning at most
// types.PruneHashesPerBlock hashes older than params.block_hash_retention),
// starts a window at the first block whose header time enters a new multiple
// of params.window_ms, and examines up to params.max_schedule_gpus_per_block
// GPUs of the current window for challenges. Its work is bounded by params,
// never by the number of providers, GPUs or challenges.
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
	cur, err := k.getCursor(ctx)
	if err != nil {
		return err
	}
	idx := nowMs(ctx) / int64(params.WindowMs)
	switch {
	case h <= 0:
	case cur.WindowHeight == 0 && cur.WindowIndex == 0:
		// The chain's first block: note its period; the first window starts
		// at the next boundary, like every later one.
		cur.WindowIndex, cur.Done = idx, true
		if err := k.Cursor.Set(ctx, cur); err != nil {
			return err
		}
	case idx > cur.WindowIndex:
		if err := k.startWindow(ctx, cur, h, hash, idx); err != nil {
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

// startWindow resets the schedule cursor to a new window starting at height
// h. A previous window whose schedule had not examined every active provider
// is abandoned (EventWindowStarted.previous_incomplete).
func (k Keeper) startWindow(ctx context.Context, prev types.ScheduleCursor, h int64, hash []byte, idx int64) error {
	// Resume where the previous window stopped, or start where it started:
	// providers are examined round-robin, so none is starved by its address
	// when windows do not finish.
	start := prev.StartProvider
	if !prev.Done {
		start = prev.NextProvider
	}
	cur := types.ScheduleCursor{
		WindowHeight: h, WindowHash: append([]byte(nil), hash...), WindowIndex: idx,
		StartProvider: bytes.Clone(start), NextProvider: bytes.Clone(start),
	}
	if err := k.Cursor.Set(ctx, cur); err != nil {
		return err
	}
	incomplete := prev.WindowHeight > 0 && !prev.Done
	if incomplete {
		k.Logger(ctx).Error("challenge schedule of the previous window did not reach every provider; raise max_schedule_gpus_per_block",
			"window", prev.WindowHeight)
	}
	return emit(ctx, &types.EventWindowStarted{Height: h, HeaderHash: hex.EncodeToString(hash), PreviousIncomplete: incomplete, WindowIndex: idx})
}

func (k Keeper) getCursor(ctx context.Context) (types.ScheduleCursor, error) {
	c, err := k.Cursor.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return types.ScheduleCursor{}, nil
	}
	return c, err
}

// schedule examines the current window's ACTIVE providers in owner-key
// order, from the window's start_provider (where the previous window
// stopped) to the end of the store and then from the first provider back to
// start_provider, params.max_schedule_gpus_per_block
// GPUs' worth per block, and challenges every GPU of each provider whose draw
// (one per provider and window) falls under params.challenge_rate_bps. A
// provider is never split across blocks: all its GPUs are challenged in the
// same block with the same deadline, so one real GPU cannot answer for
// several claimed ones in turn. A provider costs max(1, its GPU count) of the
// budget; one larger than the whole budget is examined alone in a block. GPUs
// whose class the chain no longer defines are not challenged (they cannot be
// bid either). A block reads only the provider records it examines, plus the
// one it stops at.
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
		cur.NextProvider, cur.Done = nil, true
		return k.Cursor.Set(ctx, cur)
	}
	full := params.MaxScheduleGpusPerBlock
	budget := full
	examine := func(p providertypes.Provider) (bool, error) {
		if budget == 0 {
			return true, nil
		}
		cost := uint32(1)
		if len(p.Gpus) > 1 {
			cost = uint32(len(p.Gpus))
		}
		if cost > budget && budget < full {
			// Not enough budget left to challenge all its GPUs together:
			// the next block starts with it.
			return true, nil
		}
		budget -= min(cost, budget)
		if p.Status != providertypes.ProviderStatusActive || len(p.Gpus) == 0 {
			return false, nil
		}
		owner, err := k.decodeAddress("provider owner", p.Owner)
		if err != nil {
			return false, err
		}
		if !types.IsChallenged(params.ChallengeRateBps, cur.WindowHash, owner) {
			return false, nil
		}
		for gi, g := range p.Gpus {
			cs, ok := params.Class(g.Class)
			if !ok {
				continue
			}
			if _, err := k.issue(ctx, params, cs, cur, p.Owner, owner, uint32(gi), g); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	if !cur.Wrapped {
		// [next, end of store)
		next, err := k.providers.WalkActiveProviders(ctx, cur.NextProvider, nil, examine)
		if err != nil {
			return err
		}
		if next != nil {
			cur.NextProvider = next
			return k.Cursor.Set(ctx, cur)
		}
		cur.Wrapped, cur.NextProvider = true, nil
		if len(cur.StartProvider) == 0 {
			cur.Done = true // started at the first provider: all examined
			return k.Cursor.Set(ctx, cur)
		}
	}
	// [first or next, start): the arc before the pivot.
	next, err := k.providers.WalkActiveProviders(ctx, cur.NextProvider, cur.StartProvider, examine)
	if err != nil {
		return err
	}
	cur.NextProvider = next
	cur.Done = next == nil
	return k.Cursor.Set(ctx, cur)
}

// issue creates a challenge for GPU gi of owner in the cursor's window.
func (k Keeper) issue(ctx context.Context, params types.Params, cs types.ClassSize, cur types.ScheduleCursor, ownerStr string, owner sdk.AccAddress, gi uint32, g providertypes.GPU) (uint64, error) {
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
	now := nowMs(ctx)
	seed := types.ChallengeSeed(sdkCtx.ChainID(), cur.WindowHeight, cur.WindowHash, owner, gi)
	c := types.Challenge{
		Id:               id,
		Provider:         ownerStr,
		GpuUuid:          g.Uuid,
		GpuIndex:         gi,
		Class:            g.Class,
		ProofSize:        cs.ProofSize,
		Seed:             seed[:],
		WindowHeight:     cur.WindowHeight,
		IssuedHeight:     h,
		IssuedTimeMs:     now,
		CommitDeadlineMs: now + int64(params.CommitDeadlineMs(cs)),
		State:            types.ChallengeStatePendingCommit,
	}
	if err := k.Challenges.Set(ctx, id, c); err != nil {
		return 0, err
	}
	if err := k.Deadlines.Set(ctx, collections.Join(c.CommitDeadlineMs, id)); err != nil {
		return 0, err
	}
	return id, emit(ctx, &types.EventChallengeIssued{
		Id: id, Provider: ownerStr, GpuUuid: g.Uuid, GpuIndex: gi, Class: g.Class, ProofSize: cs.ProofSize,
		Seed: hex.EncodeToString(seed[:]), WindowHeight: cur.WindowHeight, IssuedHeight: h,
		IssuedTimeMs: now, CommitDeadlineMs: c.CommitDeadlineMs,
	})
}

// EndBlocker processes up to params.max_expiries_per_block due deadlines
// (header time past them, oldest first); the rest wait for the next block.
// A deadline still inside its grace blocks (types.CommitGraceBlocks,
// types.RevealGraceBlocks) waits too. A pending commit past its deadline is
// a missed commit; a commit not revealed by its reveal deadline is a missed
// reveal: both are liveness faults of that GPU (nothing is proven wrong, so
// nothing is burned). Each entry runs in a cached context: if applying its
// consequences fails, the error is logged, the challenge still ends in its
// missed state without them, and the queue moves on. Then finished
// challenges past their retention are pruned.
func (k Keeper) EndBlocker(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	h := blockHeight(ctx)
	now := nowMs(ctx)
	keys, err := heightqueue.Due(ctx, k.Deadlines, now-1, params.MaxExpiriesPerBlock)
	if err != nil {
		return err
	}
	for _, key := range keys {
		c, err := k.GetChallenge(ctx, key.K2())
		if errors.Is(err, types.ErrChallengeNotFound) {
			if err := k.Deadlines.Remove(ctx, key); err != nil {
				return err
			}
			continue
		} else if err != nil {
			return err
		}
		d, open := c.NextDeadline()
		if !open || d != key.K1() {
			if err := k.Deadlines.Remove(ctx, key); err != nil { // stale entry
				return err
			}
			continue
		}
		if (c.State == types.ChallengeStatePendingCommit && c.CommitOnTime(h, now)) ||
			(c.State == types.ChallengeStateCommitted && c.RevealOnTime(h, now)) {
			continue // still in its grace blocks
		}
		if err := k.Deadlines.Remove(ctx, key); err != nil {
			return err
		}
		state := types.ChallengeStateMissedCommit
		if c.State == types.ChallengeStateCommitted {
			state = types.ChallengeStateMissedReveal
		}
		k.inCache(ctx, c, state, func(cctx context.Context) error {
			return k.miss(cctx, c, state, params)
		})
	}
	return k.pruneFinished(ctx, params, h)
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
