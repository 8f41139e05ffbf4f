// Package apptest drives a whole Crucible app in memory, block by block,
// with real signed transactions: InitChain from a genesis laid out by
// testutil/network (one validator, funded test accounts), then
// FinalizeBlock + Commit for every block. Transactions go through the ante
// handler (signatures, sequences, fees, gas) exactly as on a node, without
// CometBFT or any listener.
package apptest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"cosmossdk.io/log/v2"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/crucible-network/crucible/app"
	"github.com/crucible-network/crucible/testutil/network"
)

// Chain is an in-memory Crucible chain.
type Chain struct {
	t       testing.TB
	App     *app.App
	ChainID string
	Height  int64
	Time    time.Time
	Keyring keyring.Keyring
	Layout  *network.Layout

	// Step is the header time between blocks (1 s unless set).
	Step time.Duration
	// Salt, when set, is mixed into every block hash, so that runs with
	// different salts draw different challenges (block hashes stand in for
	// CometBFT's and seed x/attest's draws).
	Salt []byte

	seqs map[string]uint64 // next sequence per key name
}

// New lays out opts (a one-validator network is enough) and starts an app
// in memory at height 1. opts.OutputDir must be a fresh directory.
func New(t testing.TB, opts network.Options) *Chain {
	t.Helper()
	layout, err := network.InitFiles(opts)
	if err != nil {
		t.Fatal(err)
	}
	return boot(t, layout, opts)
}

// NewTwins starts two independent apps (separate databases) from the same
// genesis. Feed both the same blocks (NextBlockOn) and compare their app
// hashes: any difference is non-determinism.
func NewTwins(t testing.TB, opts network.Options) (*Chain, *Chain) {
	t.Helper()
	layout, err := network.InitFiles(opts)
	if err != nil {
		t.Fatal(err)
	}
	return boot(t, layout, opts), boot(t, layout, opts)
}

func boot(t testing.TB, layout *network.Layout, opts network.Options) *Chain {
	t.Helper()
	node := layout.Nodes[0]
	g, err := genutiltypes.AppGenesisFromFile(node.Home + "/config/genesis.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := g.ToGenesisDoc()
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), true, emptyOpts{},
		baseapp.SetChainID(layout.ChainID), baseapp.SetMinGasPrices(opts.MinGasPrices))
	cp := doc.ConsensusParams.ToProto()
	if _, err := a.InitChain(&abci.RequestInitChain{
		Time: doc.GenesisTime, ChainId: layout.ChainID, ConsensusParams: &cp,
		AppStateBytes: doc.AppState, InitialHeight: 1,
	}); err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, node.Home, nil, a.AppCodec())
	if err != nil {
		t.Fatal(err)
	}
	c := &Chain{t: t, App: a, ChainID: layout.ChainID, Time: doc.GenesisTime, Keyring: kr, Layout: layout,
		seqs: map[string]uint64{}}
	c.NextBlock()
	return c
}

// AppHash is the app hash of the last committed block.
func (c *Chain) AppHash() []byte { return c.App.LastCommitID().Hash }

// NextBlock finalizes and commits one block holding txs and returns each
// transaction's result.
func (c *Chain) NextBlock(txs ...[]byte) []*abci.ExecTxResult {
	c.t.Helper()
	c.Height++
	step := c.Step
	if step <= 0 {
		step = time.Second
	}
	c.Time = c.Time.Add(step)
	hash := blockHash(c.Height)
	if len(c.Salt) > 0 {
		sum := sha256.Sum256(append(append([]byte(nil), c.Salt...), hash...))
		hash = sum[:]
	}
	res, err := c.App.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height: c.Height, Time: c.Time, Txs: txs, Hash: hash,
		ProposerAddress: c.proposer(),
	})
	if err != nil {
		c.t.Fatalf("finalize block %d: %v", c.Height, err)
	}
	if _, err := c.App.Commit(); err != nil {
		c.t.Fatalf("commit block %d: %v", c.Height, err)
	}
	return res.TxResults
}

// blockHash is a deterministic stand-in for CometBFT's block hash.
func blockHash(h int64) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(h >> (8 * (i % 8)))
		b[i] ^= byte(i * 31)
	}
	return b
}

func (c *Chain) proposer() []byte {
	pub := c.Layout.Nodes[0].PubKey
	return cmttypes.Address(pub.Address())
}

// Ctx returns a read context on the last committed state.
func (c *Chain) Ctx() sdk.Context {
	return c.App.NewUncachedContext(false, cmtproto.Header{ChainID: c.ChainID, Height: c.Height, Time: c.Time})
}

// Addr is the address of key name.
func (c *Chain) Addr(name string) sdk.AccAddress {
	c.t.Helper()
	rec, err := c.Keyring.Key(name)
	if err != nil {
		c.t.Fatal(err)
	}
	a, err := rec.GetAddress()
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

// Tx signs msgs from key name with the given gas limit and fee (in ucru)
// and returns the encoded transaction. Sequences are tracked locally; a
// transaction that fails in a block still uses its sequence.
func (c *Chain) Tx(name string, gas uint64, fee int64, msgs ...sdk.Msg) []byte {
	c.t.Helper()
	addr := c.Addr(name)
	acc := c.App.AccountKeeper.GetAccount(c.Ctx(), addr)
	if acc == nil {
		c.t.Fatalf("account %s (%s) does not exist", name, addr)
	}
	seq, ok := c.seqs[name]
	if !ok {
		seq = acc.GetSequence()
	}
	f := tx.Factory{}.
		WithChainID(c.ChainID).
		WithKeybase(c.Keyring).
		WithTxConfig(c.App.TxConfig()).
		WithAccountNumber(acc.GetAccountNumber()).
		WithSequence(seq).
		WithGas(gas).
		WithFees(fmt.Sprintf("%d%s", fee, app.BondDenom))
	b, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := tx.Sign(context.Background(), f, name, b, true); err != nil {
		c.t.Fatal(err)
	}
	bz, err := c.App.TxConfig().TxEncoder()(b.GetTx())
	if err != nil {
		c.t.Fatal(err)
	}
	c.seqs[name] = seq + 1
	return bz
}

// Deliver signs one transaction from name, puts it alone in the next block
// and returns its result.
func (c *Chain) Deliver(name string, msgs ...sdk.Msg) *abci.ExecTxResult {
	c.t.Helper()
	return c.NextBlock(c.Tx(name, 1_000_000, 0, msgs...))[0]
}

type emptyOpts struct{}

func (emptyOpts) Get(string) any { return nil }

// FromExport starts a fresh in-memory app from another chain's exported
// state (same chain id, keyring and validator), at the exported height + 1.
func FromExport(t testing.TB, from *Chain, exported servertypes.ExportedApp) *Chain {
	t.Helper()
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), true, emptyOpts{}, baseapp.SetChainID(from.ChainID))
	cp := exported.ConsensusParams
	vals := make([]abci.ValidatorUpdate, 0, len(exported.Validators))
	for _, v := range exported.Validators {
		pk, err := cryptoenc.PubKeyToProto(v.PubKey)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, abci.ValidatorUpdate{PubKey: pk, Power: v.Power})
	}
	if _, err := a.InitChain(&abci.RequestInitChain{
		Time: from.Time, ChainId: from.ChainID, ConsensusParams: &cp, Validators: vals,
		AppStateBytes: exported.AppState, InitialHeight: exported.Height + 1,
	}); err != nil {
		t.Fatal(err)
	}
	c := &Chain{t: t, App: a, ChainID: from.ChainID, Height: exported.Height, Time: from.Time,
		Keyring: from.Keyring, Layout: from.Layout, seqs: map[string]uint64{}}
	c.NextBlock()
	return c
}
