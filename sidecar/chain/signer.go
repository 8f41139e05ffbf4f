package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	errorsmod "cosmossdk.io/errors"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/x/authz"

	"github.com/crucible-network/crucible/sidecar/config"
)

// Defaults of SignerConfig.
const (
	DefaultConfirmTimeout = 60 * time.Second
	DefaultConfirmPoll    = 500 * time.Millisecond
)

// Stage is where a transaction failed.
type Stage string

// Stages of a transaction.
const (
	StageSimulate Stage = "simulate"
	StageCheckTx  Stage = "checktx"
	StageDeliver  Stage = "deliver"
)

// ErrTxTimeout is returned (wrapped in a *TimeoutError) when a broadcast
// transaction is not found in a block before the confirm timeout.
var ErrTxTimeout = errors.New("transaction not included in time")

// TxError is a transaction the chain refused: in simulation, in CheckTx
// (the mempool did not take it), or in its block (it was included and
// failed; the sequence was still used). errors.Is matches it against the
// registered error of its codespace and code (e.g. markettypes.ErrInvalidPrice,
// sdkerrors.ErrWrongSequence); a simulation failure unwraps to the gRPC error.
type TxError struct {
	Stage     Stage
	TxHash    string
	Height    int64
	Codespace string
	Code      uint32
	Log       string
	cause     error
}

func (e *TxError) Error() string {
	if e.Stage == StageSimulate {
		return fmt.Sprintf("simulate: %v", e.cause)
	}
	return fmt.Sprintf("tx %s failed in %s (height %d): %s code %d: %s", e.TxHash, e.Stage, e.Height, e.Codespace, e.Code, e.Log)
}

// Unwrap returns the registered SDK error for Codespace/Code, or the cause.
func (e *TxError) Unwrap() error {
	if e.Code != 0 {
		return errorsmod.ABCIError(e.Codespace, e.Code, e.Log)
	}
	return e.cause
}

// TimeoutError is a broadcast transaction not seen in a block in time. It
// may still be included later, but not in a block above TimeoutHeight
// (when that is set): the chain refuses it there.
type TimeoutError struct {
	TxHash string
	After  time.Duration
	// TimeoutHeight is the transaction's timeout_height; 0 when it has none.
	TimeoutHeight int64
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("tx %s not included after %s", e.TxHash, e.After)
}

// Unwrap returns ErrTxTimeout.
func (e *TimeoutError) Unwrap() error { return ErrTxTimeout }

// SignerConfig configures a Signer.
type SignerConfig struct {
	ChainID string
	// KeyName is the keyring entry that signs.
	KeyName string
	// GasPrices are decimal coins per unit of gas ("0.025ucru").
	GasPrices string
	// GasAdjustment multiplies the simulated gas.
	GasAdjustment float64
	// Granter, when set to an address other than the key's, is the account
	// the signer acts for through x/authz: every message is wrapped in one
	// MsgExec signed by the key (the grantee).
	Granter string
	// ConfirmTimeout bounds WaitForTx; ConfirmPoll is its polling interval.
	ConfirmTimeout time.Duration
	ConfirmPoll    time.Duration
	// TimeoutBlocks, when positive, gives every transaction the
	// timeout_height (latest height when signed) + TimeoutBlocks: past it the
	// chain refuses the transaction, so one stuck in a mempool has a known
	// end (config chain.tx_timeout_blocks).
	TimeoutBlocks uint64
}

// SignerConfigFrom is the hot-key signer of the chain section: the key
// cfg.HotKeyName, acting for cfg.ProviderAddress.
func SignerConfigFrom(cfg config.ChainConfig) SignerConfig {
	return SignerConfig{
		ChainID:       cfg.ChainID,
		KeyName:       cfg.HotKeyName,
		GasPrices:     cfg.GasPrices,
		GasAdjustment: cfg.GasAdjustment,
		Granter:       cfg.ProviderAddress,
		TimeoutBlocks: cfg.TxTimeoutBlocks,
	}
}

// OpenKeyring opens the keyring of the chain section (backend and dir).
func OpenKeyring(cfg config.ChainConfig, cdc codec.Codec) (keyring.Keyring, error) {
	if cfg.KeyringBackend == keyring.BackendMemory {
		return keyring.NewInMemory(cdc), nil
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), cfg.KeyringBackend, cfg.KeyringDir, os.Stdin, cdc)
	if err != nil {
		return nil, fmt.Errorf("open %s keyring in %s: %w", cfg.KeyringBackend, cfg.KeyringDir, err)
	}
	return kr, nil
}

// Signer signs and broadcasts the transactions of one key. It owns the
// key's account sequence: broadcasts are serialised, the sequence advances
// when CheckTx accepts a transaction, and on a sequence mismatch the signer
// re-reads the account and signs again, once. Safe for concurrent use.
type Signer struct {
	client  *Client
	kr      keyring.Keyring
	cfg     SignerConfig
	addr    sdk.AccAddress
	granter sdk.AccAddress // nil: sign for itself
	prices  sdk.DecCoins
	logger  *slog.Logger

	mu     sync.Mutex // held while signing and broadcasting
	loaded bool
	accNum uint64
	seq    uint64
}

// NewSigner returns a signer for cfg.KeyName in kr. The account is read on
// the first broadcast.
func NewSigner(client *Client, kr keyring.Keyring, cfg SignerConfig) (*Signer, error) {
	rec, err := kr.Key(cfg.KeyName)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", cfg.KeyName, err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", cfg.KeyName, err)
	}
	if cfg.ChainID == "" {
		return nil, errors.New("signer: chain id is empty")
	}
	prices, err := sdk.ParseDecCoins(strings.ReplaceAll(cfg.GasPrices, " ", ""))
	if err != nil {
		return nil, fmt.Errorf("gas prices %q: %w", cfg.GasPrices, err)
	}
	if math.IsNaN(cfg.GasAdjustment) || cfg.GasAdjustment < 1 {
		cfg.GasAdjustment = 1
	}
	if cfg.ConfirmTimeout <= 0 {
		cfg.ConfirmTimeout = DefaultConfirmTimeout
	}
	if cfg.ConfirmPoll <= 0 {
		cfg.ConfirmPoll = DefaultConfirmPoll
	}
	s := &Signer{client: client, kr: kr, cfg: cfg, addr: addr, prices: prices,
		logger: client.logger.With("signer", addr.String())}
	if cfg.Granter != "" && cfg.Granter != addr.String() {
		if s.granter, err = sdk.AccAddressFromBech32(cfg.Granter); err != nil {
			return nil, fmt.Errorf("granter %q: %w", cfg.Granter, err)
		}
	}
	return s, nil
}

// Address is the signing key's account.
func (s *Signer) Address() sdk.AccAddress { return s.addr }

// Actor is the account messages must name as their signer: the granter
// when the signer acts through x/authz, else the key's own account.
func (s *Signer) Actor() string {
	if s.granter != nil {
		return s.granter.String()
	}
	return s.addr.String()
}

// UsesAuthz reports whether messages are wrapped in MsgExec.
func (s *Signer) UsesAuthz() bool { return s.granter != nil }

// Submit broadcasts msgs in one transaction and waits for its block. The
// response has code 0; any failure is a *TxError, a *TimeoutError or a
// transport error.
//
// A *TimeoutError carries the transaction's timeout height: once the chain
// has committed a block at that height without it, it can never be
// included.
func (s *Signer) Submit(ctx context.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	hash, timeoutHeight, err := s.broadcast(ctx, msgs...)
	if err != nil {
		return nil, err
	}
	res, err := s.WaitForTx(ctx, hash)
	if te := (*TimeoutError)(nil); errors.As(err, &te) {
		te.TimeoutHeight = timeoutHeight
	}
	return res, err
}

// Broadcast simulates msgs for gas, signs them with the next sequence and
// broadcasts them in sync mode (CheckTx only). It returns the tx hash once
// the mempool has taken the transaction.
func (s *Signer) Broadcast(ctx context.Context, msgs ...sdk.Msg) (string, error) {
	hash, _, err := s.broadcast(ctx, msgs...)
	return hash, err
}

// broadcast is Broadcast that also returns the transaction's timeout height
// (0: none).
func (s *Signer) broadcast(ctx context.Context, msgs ...sdk.Msg) (string, int64, error) {
	if len(msgs) == 0 {
		return "", 0, errors.New("broadcast: no messages")
	}
	if s.granter != nil {
		exec := authz.NewMsgExec(s.addr, msgs)
		msgs = []sdk.Msg{&exec}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		if err := s.refresh(ctx); err != nil {
			return "", 0, err
		}
	}
	var timeoutHeight int64
	if s.cfg.TimeoutBlocks > 0 {
		h, err := s.client.LatestHeight(ctx)
		if err != nil {
			return "", 0, fmt.Errorf("latest height for the tx timeout: %w", err)
		}
		timeoutHeight = h + int64(s.cfg.TimeoutBlocks)
	}
	for attempt := 0; ; attempt++ {
		hash, err := s.broadcastOnce(ctx, msgs, timeoutHeight)
		if err == nil || attempt > 0 || !s.mismatch(ctx, err) {
			return hash, timeoutHeight, err
		}
		s.logger.Info("account sequence mismatch; re-signing", "err", err, "sequence", s.seq)
	}
}

// mismatch reports whether err is a sequence mismatch that re-signing can
// fix, and then moves the signer to the sequence the node expects. CheckTx
// says so with sdkerrors.ErrWrongSequence; a failed simulation carries only
// text, so there the error's message is matched. The node's message names
// the sequence it expects, which counts this key's transactions still in
// its mempool; only when it cannot be read does the signer re-read the
// account (committed state).
//
// Any other refusal leaves the sequence alone: it used no sequence, so the
// cached one is still right, while re-reading the account would move it
// back behind this signer's own transactions in the mempool and make the
// next broadcasts fail with a mismatch.
func (s *Signer) mismatch(ctx context.Context, err error) bool {
	var txErr *TxError
	if !errors.As(err, &txErr) {
		return false
	}
	var msg string
	switch txErr.Stage {
	case StageCheckTx:
		if !errors.Is(err, sdkerrors.ErrWrongSequence) {
			return false
		}
		msg = txErr.Log
	case StageSimulate:
		msg = txErr.Error()
		if !strings.Contains(msg, sdkerrors.ErrWrongSequence.Error()) {
			return false
		}
	default:
		return false
	}
	before := s.seq
	if seq, ok := expectedSequence(msg); ok {
		s.seq = seq
	} else if rerr := s.refresh(ctx); rerr != nil {
		s.logger.Warn("re-read account failed", "err", rerr)
		return false
	}
	return s.seq != before
}

// wrongSequence matches the ante handler's sequence mismatch message.
var wrongSequence = regexp.MustCompile(`account sequence mismatch, expected (\d+), got \d+`)

// expectedSequence reads the sequence a node expects from its mismatch
// message.
func expectedSequence(msg string) (uint64, bool) {
	m := wrongSequence.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	seq, err := strconv.ParseUint(m[1], 10, 64)
	return seq, err == nil
}

// refresh reads the account number and sequence from the chain.
func (s *Signer) refresh(ctx context.Context) error {
	accNum, seq, err := s.client.Account(ctx, s.addr)
	if err != nil {
		return err
	}
	s.accNum, s.seq, s.loaded = accNum, seq, true
	return nil
}

func (s *Signer) factory(gas uint64, timeoutHeight int64) tx.Factory {
	return tx.Factory{}.
		WithTxConfig(s.client.enc.TxConfig).
		WithKeybase(s.kr).
		WithFromName(s.cfg.KeyName).
		WithChainID(s.cfg.ChainID).
		WithAccountNumber(s.accNum).
		WithSequence(s.seq).
		WithSimulateAndExecute(true).
		WithGas(gas).
		WithGasPrices(s.prices.String()).
		WithTimeoutHeight(uint64(max(timeoutHeight, 0)))
}

func (s *Signer) broadcastOnce(ctx context.Context, msgs []sdk.Msg, timeoutHeight int64) (string, error) {
	simBytes, err := s.factory(0, timeoutHeight).BuildSimTx(msgs...)
	if err != nil {
		return "", fmt.Errorf("build simulation tx: %w", err)
	}
	sim, err := s.client.Tx.Simulate(ctx, &txtypes.SimulateRequest{TxBytes: simBytes})
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.Unavailable {
			return "", fmt.Errorf("simulate: %w", err)
		}
		return "", &TxError{Stage: StageSimulate, cause: err}
	}
	gas := uint64(math.Ceil(float64(sim.GasInfo.GasUsed) * s.cfg.GasAdjustment))
	f := s.factory(gas, timeoutHeight)
	b, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		return "", fmt.Errorf("build tx: %w", err)
	}
	if err := tx.Sign(ctx, f, s.cfg.KeyName, b, true); err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	bz, err := s.client.enc.TxConfig.TxEncoder()(b.GetTx())
	if err != nil {
		return "", fmt.Errorf("encode tx: %w", err)
	}
	res, err := s.client.Tx.BroadcastTx(ctx, &txtypes.BroadcastTxRequest{TxBytes: bz, Mode: txtypes.BroadcastMode_BROADCAST_MODE_SYNC})
	if err != nil {
		return "", fmt.Errorf("broadcast: %w", err)
	}
	r := res.TxResponse
	if r.Code != 0 {
		return "", &TxError{Stage: StageCheckTx, TxHash: r.TxHash, Codespace: r.Codespace, Code: r.Code, Log: r.RawLog}
	}
	s.seq++
	s.logger.Debug("broadcast", "tx", r.TxHash, "gas", gas, "sequence", s.seq-1)
	return r.TxHash, nil
}

// WaitForTx polls the tx service for hash until the transaction is in a
// block or the confirm timeout passes (*TimeoutError). A transaction that
// failed in its block is a *TxError with StageDeliver.
func (s *Signer) WaitForTx(ctx context.Context, hash string) (*sdk.TxResponse, error) {
	return s.client.WaitForTx(ctx, hash, s.cfg.ConfirmTimeout, s.cfg.ConfirmPoll)
}

// WaitForTx polls the tx service for hash; see Signer.WaitForTx.
func (c *Client) WaitForTx(ctx context.Context, hash string, timeout, poll time.Duration) (*sdk.TxResponse, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		res, err := c.Tx.GetTx(ctx, &txtypes.GetTxRequest{Hash: hash})
		switch {
		case err == nil:
			r := res.TxResponse
			if r.Code != 0 {
				return r, &TxError{Stage: StageDeliver, TxHash: r.TxHash, Height: r.Height, Codespace: r.Codespace, Code: r.Code, Log: r.RawLog}
			}
			return r, nil
		case status.Code(err) == codes.NotFound:
		default:
			c.logger.Debug("get tx failed; retrying", "tx", hash, "err", err)
		}
		select {
		case <-ticker.C:
		case <-deadline.C:
			return nil, &TimeoutError{TxHash: hash, After: timeout}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
