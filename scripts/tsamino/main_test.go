package main

import (
	"os"
	"testing"
)

// TestRegistryUpToDate fails when the committed clients/ts/src/generated/registry.ts (registry
// entries and amino schema of the TypeScript client) differs from what the .proto files give
// now: run make ts-gen and commit.
func TestRegistryUpToDate(t *testing.T) {
	got, err := render()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../clients/ts/src/generated/registry.ts")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatal("clients/ts/src/generated/registry.ts is stale: run make ts-gen and commit it")
	}
}
