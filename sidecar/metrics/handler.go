package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultHealthTimeout bounds one /healthz request.
const DefaultHealthTimeout = 5 * time.Second

// HealthResponse is the JSON body of /healthz.
type HealthResponse struct {
	// Status is "ok" or "unhealthy".
	Status string `json:"status"`
	// Failing names the failing checks, sorted.
	Failing []string `json:"failing,omitempty"`
	// Errors holds each failing check's error.
	Errors map[string]string `json:"errors,omitempty"`
}

// Handler serves /metrics from m's registry and /healthz from health: 200
// with {"status":"ok"} when every check passes, 503 with the failing names
// otherwise. Checks get timeout (DefaultHealthTimeout when 0).
func Handler(m *Metrics, health *Health, timeout time.Duration) http.Handler {
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		failing := health.Check(ctx)
		resp := HealthResponse{Status: "ok"}
		code := http.StatusOK
		if len(failing) > 0 {
			code = http.StatusServiceUnavailable
			resp.Status = "unhealthy"
			resp.Failing = slices.Sorted(maps.Keys(failing))
			resp.Errors = make(map[string]string, len(failing))
			for name, err := range failing {
				resp.Errors[name] = err.Error()
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(resp)
	})
	return mux
}

// Serve serves h on ln until ctx is done, then shuts down gracefully (for
// up to 5s). It returns nil after a shutdown caused by ctx.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdownCtx)
		if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
		return err
	}
}
