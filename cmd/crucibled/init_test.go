package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A node made by `crucibled init` runs the chain's 1 s blocks: the SDK
// rewrites a fresh config.toml's timeout_commit to 5 s unless told
// otherwise, which would stretch every block-count default five-fold. An
// existing config.toml is left as the operator wrote it.
func TestInitWritesOneSecondBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the crucibled binary")
	}
	home := t.TempDir()
	out, err := exec.Command(bin, "init", "n0", "--chain-id", "crucible-t", "--home", home).CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	cfg := filepath.Join(home, "config", "config.toml")
	bz, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bz), `timeout_commit = "1s"`) {
		t.Fatalf("config.toml after init has no 1 s timeout_commit:\n%s", grepLine(string(bz), "timeout_commit"))
	}
	// The operator's own choice survives another command.
	edited := strings.Replace(string(bz), `timeout_commit = "1s"`, `timeout_commit = "3s"`, 1)
	if err := os.WriteFile(cfg, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "genesis", "validate", "--home", home).CombinedOutput(); err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	bz, _ = os.ReadFile(cfg)
	if !strings.Contains(string(bz), `timeout_commit = "3s"`) {
		t.Fatalf("an existing config.toml was rewritten: %s", grepLine(string(bz), "timeout_commit"))
	}
}

func grepLine(s, key string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, key) {
			return l
		}
	}
	return ""
}
