package procnet

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// CLI runs `crucibled` client commands against node i with its home's
// keyring and client.toml; JSON output is decoded for the caller.
type CLI struct {
	n    *Net
	node int
}

// CLI returns a client bound to node i.
func (n *Net) CLI(i int) *CLI { return &CLI{n: n, node: i} }

// Run runs crucibled with args plus --home, returning stdout; stderr is
// included in the error.
func (c *CLI) Run(args ...string) ([]byte, error) {
	args = append(args, "--home", c.n.Home(c.node))
	cmd := exec.Command(c.n.Bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("crucibled %s: %w: %s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out, nil
}

// Query runs a query with --output json and decodes it into v.
func (c *CLI) Query(v any, args ...string) error {
	out, err := c.Run(append(args, "--output", "json")...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("decode %q: %w", out, err)
	}
	return nil
}

// TxResult is what a delivered transaction reports.
type TxResult struct {
	Hash    string
	Code    uint32
	Log     string
	Events  []Event
	Height  int64
	GasUsed int64
}

// Event is one ABCI event of a delivered transaction.
type Event struct {
	Type       string `json:"type"`
	Attributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

// Attr returns the first value of key in the first event of type typ.
func (r TxResult) Attr(typ, key string) string {
	for _, e := range r.Events {
		if e.Type == typ {
			for _, a := range e.Attributes {
				if a.Key == key {
					return strings.Trim(a.Value, `"`)
				}
			}
		}
	}
	return ""
}

// Tx signs and broadcasts `tx args...` from key `from`, waits for the block
// and returns the delivered result (CheckTx rejections come back as a
// result with a non-zero code, not as an error).
func (c *CLI) Tx(from string, args ...string) (TxResult, error) {
	args = append([]string{"tx"}, args...)
	args = append(args, "--from", from, "--yes", "--output", "json", "--gas", "600000", "--fees", "2000ucru")
	out, err := c.Run(args...)
	if err != nil {
		return TxResult{}, err
	}
	var sync struct {
		TxHash string `json:"txhash"`
		Code   uint32 `json:"code"`
		RawLog string `json:"raw_log"`
	}
	if err := json.Unmarshal(out, &sync); err != nil {
		return TxResult{}, fmt.Errorf("decode broadcast %q: %w", out, err)
	}
	if sync.Code != 0 {
		return TxResult{Hash: sync.TxHash, Code: sync.Code, Log: sync.RawLog}, nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var res struct {
			Height  string  `json:"height"`
			Code    uint32  `json:"code"`
			RawLog  string  `json:"raw_log"`
			GasUsed string  `json:"gas_used"`
			Events  []Event `json:"events"`
		}
		if err := c.Query(&res, "q", "tx", sync.TxHash); err == nil {
			h, _ := strconv.ParseInt(res.Height, 10, 64)
			g, _ := strconv.ParseInt(res.GasUsed, 10, 64)
			return TxResult{Hash: sync.TxHash, Code: res.Code, Log: res.RawLog, Events: res.Events, Height: h, GasUsed: g}, nil
		}
		time.Sleep(300 * time.Millisecond)
	}
	return TxResult{}, fmt.Errorf("tx %s not included within 30s", sync.TxHash)
}

// Address returns the address of key name in node i's keyring.
func (c *CLI) Address(name string) (string, error) {
	out, err := c.Run("keys", "show", name, "-a")
	return strings.TrimSpace(string(out)), err
}
