package main_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// bin is the crucibled binary the end-to-end tests run, built once.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "crucibled-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if !testing.Short() {
			bin = filepath.Join(dir, "crucibled")
			cmd := exec.Command("go", "build", "-o", bin, ".")
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "build crucibled:", err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}
