package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/crucible-network/crucible/x/attest/types"
)

func deadlines(t *testing.T, f *fixture) []collections.Pair[int64, uint64] {
	var out []collections.Pair[int64, uint64]
	require.NoError(t, f.k.Deadlines.Walk(f.ctx, nil, func(k collections.Pair[int64, uint64]) (bool, error) {
		out = append(out, k)
		return false, nil
	}))
	return out
}

// TestGenesisRoundTrip exports a state with challenges in several states,
// records, block hashes and a cursor mid-window, imports it into a fresh
// store and exports the same; the deadline queue is rebuilt identically.
func TestGenesisRoundTrip(t *testing.T) {
	f := newFixture(t)
	f.setParams(func(p *types.Params) { p.MaxScheduleGpusPerBlock = 3 })
	a := f.addProvider(1, 2)
	f.addProvider(2, 1)
	f.addProvider(3, 1)
	f.advance(19)
	f.begin(20) // challenges 1, 2 (provider 1) and 3 (provider 2): 3 GPUs; provider 3 next block
	good := f.answer(a, 1, nil)
	_, err := f.reveal(a, 1, good)
	require.NoError(t, err)
	c2 := f.challenge(2)
	f.commit(a, c2, newProver(t, c2, nil)) // committed, open
	f.end()
	f.begin(22)
	f.end()
	f.begin(23)
	f.end()
	f.begin(24)
	f.end() // challenge 3 missed its commit (block 23's time); challenge 4 (issued at 21) is pending
	require.Equal(t, types.ChallengeStatePassed, f.challenge(1).State)
	require.Equal(t, types.ChallengeStateCommitted, f.challenge(2).State)
	require.Equal(t, types.ChallengeStateMissedCommit, f.challenge(3).State)
	require.Equal(t, types.ChallengeStatePendingCommit, f.challenge(4).State)

	gs := f.export()
	require.NoError(t, gs.Validate())
	require.Len(t, gs.Challenges, 4)
	require.Equal(t, uint64(5), gs.NextChallengeId)
	require.Len(t, gs.Records, 2)
	require.Len(t, gs.BlockHashes, 20)
	require.Equal(t, int64(20), gs.Cursor.WindowHeight)
	require.Len(t, gs.GpuStatuses, 1, "provider 2's GPU has a miss run")
	require.Equal(t, uint32(1), gs.GpuStatuses[0].ConsecutiveMisses)

	g := newFixture(t)
	g.ctx = g.ctx.WithBlockHeight(24)
	require.NoError(t, g.k.InitGenesis(g.ctx, gs))
	require.Equal(t, gs, g.export())
	require.Equal(t, deadlines(t, f), deadlines(t, g))
	require.Len(t, deadlines(t, g), 2)
	require.Equal(t, finishedQueue(t, f), finishedQueue(t, g))
	require.Len(t, finishedQueue(t, g), 2) // challenges 1 (passed) and 3 (missed)

	// Ids continue.
	g.prov = f.prov
	id, err := g.k.NextChallengeID.Peek(g.ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(5), id)
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, types.DefaultGenesis().Validate())
	bad := func(mut func(gs *types.GenesisState)) {
		t.Helper()
		gs := types.DefaultGenesis()
		gs.Challenges = []types.Challenge{validChallenge()}
		gs.NextChallengeId = 2
		require.NoError(t, gs.Validate())
		mut(gs)
		require.ErrorIs(t, gs.Validate(), types.ErrInvalidGenesis)
	}
	bad(func(gs *types.GenesisState) { gs.NextChallengeId = 1 })
	bad(func(gs *types.GenesisState) { gs.NextChallengeId = 0 })
	bad(func(gs *types.GenesisState) {
		gs.Challenges = append(gs.Challenges, gs.Challenges[0])
		gs.NextChallengeId = 3
	})
	bad(func(gs *types.GenesisState) { gs.Challenges[0].Seed = nil })
	bad(func(gs *types.GenesisState) { gs.Challenges[0].State = types.ChallengeStatePassed })
	bad(func(gs *types.GenesisState) { gs.Challenges[0].FinishedHeight = 5 })
	bad(func(gs *types.GenesisState) { gs.Challenges[0].ProofSize.N = 65 })
	bad(func(gs *types.GenesisState) {
		gs.Records = []types.Record{{Provider: "cru1x", Score: 1}, {Provider: "cru1x", Score: 2}}
	})
	bad(func(gs *types.GenesisState) { gs.Records = []types.Record{{Provider: "cru1x", Score: 10_001}} })
	bad(func(gs *types.GenesisState) { gs.BlockHashes = []types.BlockHash{{Height: 3}, {Height: 3}} })
	bad(func(gs *types.GenesisState) { gs.Challenges[0].CommitDeadlineMs = gs.Challenges[0].IssuedTimeMs })
	bad(func(gs *types.GenesisState) { gs.GpuStatuses = []types.GPUStatus{{Provider: "cru1x"}} })
	bad(func(gs *types.GenesisState) {
		gs.GpuStatuses = []types.GPUStatus{{Provider: "cru1x", GpuUuid: "G"}, {Provider: "cru1x", GpuUuid: "G"}}
	})
}

func validChallenge() types.Challenge {
	return types.Challenge{
		Id: 1, Provider: "cru1x", GpuUuid: "GPU-1", Class: "test", ProofSize: testParams().ClassSizes[0].ProofSize,
		Seed: make([]byte, 32), WindowHeight: 20, IssuedHeight: 20,
		IssuedTimeMs: blockTime(20).UnixMilli(), CommitDeadlineMs: blockTime(23).UnixMilli(),
		State: types.ChallengeStatePendingCommit,
	}
}

func finishedQueue(t *testing.T, f *fixture) []collections.Pair[int64, uint64] {
	t.Helper()
	var out []collections.Pair[int64, uint64]
	require.NoError(t, f.k.Finished.Walk(f.ctx, nil, func(k collections.Pair[int64, uint64]) (bool, error) {
		out = append(out, k)
		return false, nil
	}))
	return out
}
