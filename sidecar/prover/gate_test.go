package prover

import (
	"context"
	"testing"
	"time"

	"github.com/crucible-network/crucible/x/attest/poc"
)

// The CPU prover may bid the test class (milliseconds of work) but never a
// production class (hours of work against a 33 s deadline): a provider that
// bid it would miss every challenge of the leased GPU.
func TestClassGateCPU(t *testing.T) {
	var g ClassGate
	if !g.Allows("h100") {
		t.Fatal("a gate that has not decided must allow")
	}
	classes := []ClassDeadline{
		{Class: "test", Params: poc.TestParams(), Deadline: 7300 * time.Millisecond},
		{Class: "h100", Params: poc.ProductionParams(), Deadline: 33300 * time.Millisecond},
	}
	if err := g.Decide(context.Background(), NewCPU(0), classes); err != nil {
		t.Fatal(err)
	}
	if !g.Allows("test") {
		t.Fatalf("test class refused: %+v", g.Decisions())
	}
	if g.Allows("h100") {
		t.Fatalf("the cpu prover may not bid a production class: %+v", g.Decisions())
	}
	if g.Allows("a100") {
		t.Fatal("a class the chain does not define is never bid")
	}
	var nilGate *ClassGate
	if !nilGate.Allows("h100") {
		t.Fatal("a nil gate allows every class")
	}
}
