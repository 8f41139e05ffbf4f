package network

import (
	"encoding/json"
	"time"

	"github.com/cosmos/cosmos-sdk/codec"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"

	"github.com/crucible-network/crucible/x/attest/poc"
	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// LocalnetGenesis tunes a genesis for loopback networks, tests and the demo:
// proof-of-compute challenges at the CPU prover's test size for every GPU
// class, every GPU challenged in every 15-block window with 5-block commit
// and reveal windows; a 20-block provider unbonding; a 30-second governance
// voting period. Production genesis keeps the modules' defaults.
func LocalnetGenesis(cdc codec.Codec, state map[string]json.RawMessage) error {
	var ag attesttypes.GenesisState
	if err := cdc.UnmarshalJSON(state[attesttypes.ModuleName], &ag); err != nil {
		return err
	}
	test := attesttypes.NewProofSize(poc.TestParams())
	for i := range ag.Params.ClassSizes {
		ag.Params.ClassSizes[i].ProofSize = test
	}
	ag.Params.DefaultSize = test
	ag.Params.WindowBlocks = 15
	ag.Params.ChallengeRateBps = 10_000
	ag.Params.CommitWindowBlocks = 5
	ag.Params.RevealWindowBlocks = 5
	if ag.Params.BlockHashRetention < 30 {
		ag.Params.BlockHashRetention = 30
	}
	if err := ag.Params.Validate(); err != nil {
		return err
	}
	bz, err := cdc.MarshalJSON(&ag)
	if err != nil {
		return err
	}
	state[attesttypes.ModuleName] = bz

	var pg providertypes.GenesisState
	if err := cdc.UnmarshalJSON(state[providertypes.ModuleName], &pg); err != nil {
		return err
	}
	pg.Params.UnbondingBlocks = 20
	pg.Params.JailBlocks = 20
	if bz, err = cdc.MarshalJSON(&pg); err != nil {
		return err
	}
	state[providertypes.ModuleName] = bz

	var gg govv1.GenesisState
	if err := cdc.UnmarshalJSON(state["gov"], &gg); err != nil {
		return err
	}
	voting := 30 * time.Second
	expedited := 15 * time.Second
	gg.Params.VotingPeriod = &voting
	gg.Params.ExpeditedVotingPeriod = &expedited
	if bz, err = cdc.MarshalJSON(&gg); err != nil {
		return err
	}
	state["gov"] = bz
	return nil
}
