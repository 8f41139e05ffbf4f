package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crucible-network/crucible/x/attest/types"
)

func TestUpdateParamsAuthority(t *testing.T) {
	f := newFixture(t)
	p := testParams()
	p.ChallengeRateBps = 1_234

	_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.str(f.addr(1)), Params: p})
	require.ErrorIs(t, err, types.ErrInvalidSigner)
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: "", Params: p})
	require.ErrorIs(t, err, types.ErrInvalidAddress)
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: "cosmos1xyz", Params: p})
	require.ErrorIs(t, err, types.ErrInvalidAddress)

	bad := p
	bad.WindowMs = 5_000 // not more than the commit deadline + reveal window
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: bad})
	require.ErrorIs(t, err, types.ErrInvalidParams)

	got, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Equal(t, testParams(), got)

	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.authority, Params: p})
	require.NoError(t, err)
	got, err = f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Equal(t, p, got)
	evs := events[*types.EventParamsUpdated](t, f.ctx)
	require.Len(t, evs, 1)
	require.Equal(t, p, evs[0].Params)
}

func TestMsgValidateBasic(t *testing.T) {
	root := make([]byte, 32)
	require.NoError(t, (&types.MsgCommitProof{Provider: "p", ChallengeId: 1, Root: root}).ValidateBasic())
	require.ErrorIs(t, (&types.MsgCommitProof{ChallengeId: 1, Root: root}).ValidateBasic(), types.ErrInvalidAddress)
	require.ErrorIs(t, (&types.MsgCommitProof{Provider: "p", Root: root}).ValidateBasic(), types.ErrInvalidChallengeID)
	require.ErrorIs(t, (&types.MsgCommitProof{Provider: "p", ChallengeId: 1, Root: root[:5]}).ValidateBasic(), types.ErrInvalidRoot)
	require.NoError(t, (&types.MsgRevealProof{Provider: "p", ChallengeId: 1, Reveal: []byte{1}}).ValidateBasic())
	require.ErrorIs(t, (&types.MsgRevealProof{Provider: "p", ChallengeId: 1}).ValidateBasic(), types.ErrRevealSize)
}
