package simulation

import (
	"math/rand"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	sdk "github.com/cosmos/cosmos-sdk/types"
	simtypes "github.com/cosmos/cosmos-sdk/types/simulation"
	"github.com/cosmos/cosmos-sdk/x/simulation"

	"github.com/crucible-network/crucible/x/attest/keeper"
	"github.com/crucible-network/crucible/x/attest/types"
	providersim "github.com/crucible-network/crucible/x/provider/simulation"
)

// Operation weights (keys of the simulation app params).
const (
	OpWeightMsgCommitProof = "op_weight_msg_commit_proof"
	OpWeightMsgRevealProof = "op_weight_msg_reveal_proof"
)

// WeightedOperations returns x/attest's simulation operations: the simulated
// providers have no GPUs to prove with, so they commit garbage roots and
// reveal garbage openings; the reveals must fail verification (a fraud that
// slashes the bond) and missed commits must count as misses.
func WeightedOperations(appParams simtypes.AppParams, txGen client.TxConfig, k keeper.Keeper) simulation.WeightedOperations {
	return simulation.WeightedOperations{
		simulation.NewWeightedOperation(providersim.Weight(appParams, OpWeightMsgCommitProof, 30), SimulateMsgCommitProof(txGen, k)),
		simulation.NewWeightedOperation(providersim.Weight(appParams, OpWeightMsgRevealProof, 15), SimulateMsgRevealProof(txGen, k)),
	}
}

func challenges(ctx sdk.Context, k keeper.Keeper, st types.ChallengeState) []types.Challenge {
	var out []types.Challenge
	_ = k.Challenges.Walk(ctx, nil, func(_ uint64, c types.Challenge) (bool, error) {
		if c.State == st {
			out = append(out, c)
		}
		return false, nil
	})
	return out
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}

// SimulateMsgCommitProof commits a random 32-byte root to a pending
// challenge, as the challenged provider (one time in five as a stranger, or
// to a challenge id that does not exist).
func SimulateMsgCommitProof(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		name := sdk.MsgTypeURL(&types.MsgCommitProof{})
		pending := challenges(ctx, k, types.ChallengeStatePendingCommit)
		signer, _ := simtypes.RandomAcc(r, accs)
		var id uint64
		switch {
		case len(pending) > 0 && r.Intn(5) != 0:
			c := pending[r.Intn(len(pending))]
			id = c.Id
			addr, err := sdk.AccAddressFromBech32(c.Provider)
			if err != nil {
				return simtypes.NoOpMsg(types.ModuleName, name, "bad provider address"), nil, err
			}
			acc, ok := simtypes.FindAccount(accs, addr)
			if !ok {
				return simtypes.NoOpMsg(types.ModuleName, name, "provider is not a simulation account"), nil, nil
			}
			signer = acc
		case len(pending) > 0:
			id = pending[r.Intn(len(pending))].Id
		default:
			id = 1 + uint64(r.Intn(1_000))
		}
		msg := &types.MsgCommitProof{Provider: signer.Address.String(), ChallengeId: id, Root: randBytes(r, types.RootLen)}
		return providersim.Deliver(r, app, ctx, txGen, signer, msg, types.ModuleName, sdk.DefaultBondDenom, sdkmath.ZeroInt())
	}
}

// SimulateMsgRevealProof reveals garbage for a committed challenge, as its
// provider: the verification must fail.
func SimulateMsgRevealProof(txGen client.TxConfig, k keeper.Keeper) simtypes.Operation {
	return func(r *rand.Rand, app *baseapp.BaseApp, ctx sdk.Context, accs []simtypes.Account, _ string,
	) (simtypes.OperationMsg, []simtypes.FutureOperation, error) {
		name := sdk.MsgTypeURL(&types.MsgRevealProof{})
		committed := challenges(ctx, k, types.ChallengeStateCommitted)
		if len(committed) == 0 {
			return simtypes.NoOpMsg(types.ModuleName, name, "no committed challenge"), nil, nil
		}
		c := committed[r.Intn(len(committed))]
		addr, err := sdk.AccAddressFromBech32(c.Provider)
		if err != nil {
			return simtypes.NoOpMsg(types.ModuleName, name, "bad provider address"), nil, err
		}
		acc, ok := simtypes.FindAccount(accs, addr)
		if !ok {
			return simtypes.NoOpMsg(types.ModuleName, name, "provider is not a simulation account"), nil, nil
		}
		msg := &types.MsgRevealProof{Provider: c.Provider, ChallengeId: c.Id, Reveal: randBytes(r, 1+r.Intn(512))}
		return providersim.Deliver(r, app, ctx, txGen, acc, msg, types.ModuleName, sdk.DefaultBondDenom, sdkmath.ZeroInt())
	}
}
