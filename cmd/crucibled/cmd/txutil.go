package cmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
)

// deliver signs msgs with the --from key, broadcasts them (sync) and waits
// until the transaction is in a block. A transaction refused by CheckTx or
// failed in the block is an error carrying its code and log.
func deliver(cmd *cobra.Command, clientCtx client.Context, msgs ...sdk.Msg) (*sdk.TxResponse, error) {
	f, err := tx.NewFactoryCLI(clientCtx, cmd.Flags())
	if err != nil {
		return nil, err
	}
	f, err = f.Prepare(clientCtx)
	if err != nil {
		return nil, err
	}
	if f.SimulateAndExecute() || f.Gas() == 0 {
		_, gas, err := tx.CalculateGas(clientCtx, f, msgs...)
		if err != nil {
			return nil, fmt.Errorf("simulate: %w", err)
		}
		f = f.WithGas(gas)
	}
	b, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, err
	}
	if err := tx.Sign(cmd.Context(), f, clientCtx.FromName, b, true); err != nil {
		return nil, err
	}
	bz, err := clientCtx.TxConfig.TxEncoder()(b.GetTx())
	if err != nil {
		return nil, err
	}
	res, err := clientCtx.BroadcastTxSync(bz)
	if err != nil {
		return nil, err
	}
	if res.Code != 0 {
		return res, fmt.Errorf("transaction refused: code %d (%s): %s", res.Code, res.Codespace, res.RawLog)
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
	defer cancel()
	for {
		got, err := authtx.QueryTx(clientCtx, res.TxHash)
		if err == nil {
			if got.Code != 0 {
				return got, fmt.Errorf("transaction %s failed: code %d (%s): %s", got.TxHash, got.Code, got.Codespace, got.RawLog)
			}
			return got, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transaction %s not in a block after 60s", res.TxHash)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// eventAttr returns attribute key of the first event of type typ.
func eventAttr(res *sdk.TxResponse, typ, key string) (string, bool) {
	for _, e := range res.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				return strings.Trim(a.Value, `"`), true
			}
		}
	}
	return "", false
}

func eventUint(res *sdk.TxResponse, typ, key string) (uint64, error) {
	v, ok := eventAttr(res, typ, key)
	if !ok {
		return 0, fmt.Errorf("transaction %s has no %s.%s", res.TxHash, typ, key)
	}
	return strconv.ParseUint(v, 10, 64)
}
