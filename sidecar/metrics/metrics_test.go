package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestMetricsEndpoint(t *testing.T) {
	m := New()
	m.BidsPlaced.Add(3)
	m.BidsWon.Inc()
	m.LeasesActive.Set(3)
	m.CountRunning(func() int { return 2 })
	m.ChallengeLatency.Observe(0.2)
	m.ChallengesAnswered.Inc()
	m.ChallengesFailed.Inc()
	m.SetGPUUtilization("GPU-sim-a-0", 75)
	m.SetGPUUtilization("GPU-sim-a-1", 250) // clamped
	m.SetGPUUtilization("GPU-gone", 10)
	m.ForgetGPU("GPU-gone")

	srv := httptest.NewServer(Handler(m, &Health{}, 0))
	defer srv.Close()
	code, body := get(t, srv.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		"crucible_sidecar_bids_placed_total 3",
		"crucible_sidecar_bids_won_total 1",
		"crucible_sidecar_leases_active 3",
		"crucible_sidecar_leases_running 2",
		"crucible_sidecar_challenge_latency_seconds_bucket{le=\"0.25\"} 1",
		"crucible_sidecar_challenge_latency_seconds_count 1",
		"crucible_sidecar_challenges_answered_total 1",
		"crucible_sidecar_challenges_failed_total 1",
		`crucible_sidecar_gpu_utilization_ratio{uuid="GPU-sim-a-0"} 0.75`,
		`crucible_sidecar_gpu_utilization_ratio{uuid="GPU-sim-a-1"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "GPU-gone") {
		t.Error("forgotten GPU still exported")
	}
	// Two Metrics do not share a registry.
	if New().Registry == m.Registry {
		t.Fatal("registries shared")
	}
}

func TestHealthz(t *testing.T) {
	h := &Health{}
	srv := httptest.NewServer(Handler(New(), h, 200*time.Millisecond))
	defer srv.Close()

	healthz := func() (int, HealthResponse) {
		code, body := get(t, srv.URL+"/healthz")
		var resp HealthResponse
		if err := json.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		return code, resp
	}

	if code, resp := healthz(); code != http.StatusOK || resp.Status != "ok" {
		t.Fatalf("no checks: %d %+v", code, resp)
	}
	if err := h.Register("chain", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := h.Register("chain", func(context.Context) error { return nil }); !errors.Is(err, ErrDuplicateCheck) {
		t.Fatalf("want ErrDuplicateCheck, got %v", err)
	}
	if code, _ := healthz(); code != http.StatusOK {
		t.Fatalf("healthy: %d", code)
	}

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(h.Register("inventory", func(context.Context) error { return errors.New("nvml lost") }))
	must(h.Register("signer", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }))
	must(h.Register("prover", func(context.Context) error { panic("boom") }))

	code, resp := healthz()
	if code != http.StatusServiceUnavailable || resp.Status != "unhealthy" {
		t.Fatalf("unhealthy: %d %+v", code, resp)
	}
	if strings.Join(resp.Failing, ",") != "inventory,prover,signer" {
		t.Fatalf("failing = %v", resp.Failing)
	}
	if resp.Errors["inventory"] != "nvml lost" || !strings.Contains(resp.Errors["signer"], "deadline") || !strings.Contains(resp.Errors["prover"], "panicked") {
		t.Fatalf("errors = %v", resp.Errors)
	}

	h.Unregister("inventory")
	h.Unregister("signer")
	h.Unregister("prover")
	if got := h.Names(); len(got) != 1 || got[0] != "chain" {
		t.Fatalf("names = %v", got)
	}
	if code, _ := healthz(); code != http.StatusOK {
		t.Fatalf("after unregister: %d", code)
	}

	// Only GET is served.
	resp2, err := http.Post(srv.URL+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /healthz: %d", resp2.StatusCode)
	}
}

func TestServeStopsWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Handler(New(), &Health{}, 0)) }()
	if code, _ := get(t, "http://"+ln.Addr().String()+"/healthz"); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}
