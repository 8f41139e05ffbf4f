package network

import (
	"encoding/json"
	"time"

	"github.com/cosmos/cosmos-sdk/codec"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"

	attesttypes "github.com/crucible-network/crucible/x/attest/types"
	providertypes "github.com/crucible-network/crucible/x/provider/types"
)

// LocalnetGenesis tunes a genesis for loopback networks, tests and the demo:
// proof-of-compute challenges at the CPU prover's test size for every GPU
// class (with the test class's reference time), plus the "test" class that
// only localnets define; every provider challenged in every 15-second window;
// a 20-block provider unbonding and jail; a 30-second governance voting
// period. Production genesis keeps the modules' defaults.
// LocalnetWindowMs is the challenge window of localnets: 15 s of header time.
const LocalnetWindowMs = 15_000

func LocalnetGenesis(cdc codec.Codec, state map[string]json.RawMessage) error {
	var ag attesttypes.GenesisState
	if err := cdc.UnmarshalJSON(state[attesttypes.ModuleName], &ag); err != nil {
		return err
	}
	test := attesttypes.TestClassSize()
	hasTest := false
	for i := range ag.Params.ClassSizes {
		ag.Params.ClassSizes[i].ProofSize = test.ProofSize
		ag.Params.ClassSizes[i].ReferenceProofMs = test.ReferenceProofMs
		hasTest = hasTest || ag.Params.ClassSizes[i].Class == attesttypes.ClassTest
	}
	if !hasTest {
		ag.Params.ClassSizes = append(ag.Params.ClassSizes, test)
	}
	ag.Params.WindowMs = LocalnetWindowMs
	ag.Params.ChallengeRateBps = 10_000
	ag.Params.RevealWindowMs = 5_000
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
