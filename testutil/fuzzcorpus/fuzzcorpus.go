// Package fuzzcorpus writes seed inputs for Go's native fuzzing in the
// "go test fuzz v1" file format, so that the committed seeds under
// testdata/fuzz/<Target>/ can be regenerated from the tests that define them.
package fuzzcorpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Encode returns the seed file for one input: one line per argument, in
// the fuzz target's parameter order. It supports the types Crucible's
// targets take: uint8, uint32, string and []byte.
func Encode(args ...any) ([]byte, error) {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case uint32:
			fmt.Fprintf(&b, "uint32(%d)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		default:
			return nil, fmt.Errorf("fuzzcorpus: unsupported value %T", a)
		}
	}
	return []byte(b.String()), nil
}

// Write writes seeds (file name -> arguments) under testdata/fuzz/<target>
// of the current package.
func Write(t testing.TB, target string, seeds map[string][]any) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, args := range seeds {
		body, err := Encode(args...)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
