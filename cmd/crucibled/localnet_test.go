package main_test

import (
	"testing"
	"time"

	"github.com/crucible-network/crucible/testutil/procnet"
)

// TestFourValidatorsSurviveOneStopped runs four crucibled processes on
// loopback ports, stops one (a quarter of the voting power): blocks keep
// coming; restarts it: it catches up and agrees on the app hash.
func TestFourValidatorsSurviveOneStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds crucibled and starts four validators")
	}
	net := procnet.New(t, bin, t.TempDir(), 4)
	net.StartAll()
	h := net.WaitHeight(0, 3, 90*time.Second)

	net.Stop(3)
	stoppedAt := h
	// 3 of 4 validators hold 75% > 2/3 of the power: the chain goes on.
	h = net.WaitHeight(0, stoppedAt+5, 60*time.Second)
	for i := 1; i < 3; i++ {
		net.WaitHeight(i, h, 30*time.Second)
	}

	net.Start(3)
	target := h + 2
	net.WaitHeight(0, target, 60*time.Second)
	net.WaitHeight(3, target, 90*time.Second)

	// Same app hash at every height the restarted node replayed or synced.
	for _, height := range []int64{stoppedAt - 1, stoppedAt + 2, target - 1} {
		want, err := net.AppHashAt(0, height)
		if err != nil {
			t.Fatal(err)
		}
		got, err := net.AppHashAt(3, height)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || want == "" {
			t.Fatalf("app hash after height %d: node3 %q, node0 %q", height, got, want)
		}
	}
}
