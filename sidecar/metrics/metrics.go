// Package metrics holds the sidecar's Prometheus metrics, on a registry of
// their own, and the HTTP handler that serves them at /metrics beside a
// /healthz built from named health checks.
package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric name.
const Namespace = "crucible_sidecar"

// ChallengeLatencyBuckets are the challenge latency histogram buckets, in
// seconds: challenges have deadlines of seconds to a minute.
var ChallengeLatencyBuckets = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Metrics are the sidecar's metrics. Every field is registered on Registry.
type Metrics struct {
	// Registry holds these metrics and the Go runtime and process collectors.
	Registry *prometheus.Registry

	BidsPlaced prometheus.Counter
	BidsWon    prometheus.Counter
	// LeasesActive counts the provider's leases that are active on chain.
	LeasesActive prometheus.Gauge
	// LeasesRunning counts leases whose job is running now (read from the
	// source CountRunning sets, at each scrape).
	LeasesRunning      prometheus.GaugeFunc
	running            atomic.Pointer[func() int]
	ChallengeLatency   prometheus.Histogram
	ChallengesAnswered prometheus.Counter
	ChallengesFailed   prometheus.Counter
	// GPUUtilization is the GPU utilization, 0 to 1, labelled by GPU UUID.
	GPUUtilization *prometheus.GaugeVec
}

// New creates the metrics on a new registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		BidsPlaced: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "bids_placed_total",
			Help: "Bids the sidecar placed on open orders.",
		}),
		BidsWon: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "bids_won_total",
			Help: "Bids that became leases.",
		}),
		LeasesActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "leases_active",
			Help: "Leases of this provider that are active on chain.",
		}),
		ChallengeLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "challenge_latency_seconds",
			Help:    "Time from seeing a challenge to broadcasting its answer.",
			Buckets: ChallengeLatencyBuckets,
		}),
		ChallengesAnswered: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "challenges_answered_total",
			Help: "Challenges answered.",
		}),
		ChallengesFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "challenges_failed_total",
			Help: "Challenges the sidecar failed to answer in time.",
		}),
		GPUUtilization: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "gpu_utilization_ratio",
			Help: "GPU utilization from 0 to 1, by GPU UUID.",
		}, []string{"uuid"}),
	}
	m.LeasesRunning = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "leases_running",
		Help: "Leases whose jobs are running now.",
	}, func() float64 {
		if fn := m.running.Load(); fn != nil {
			return float64((*fn)())
		}
		return 0
	})
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.BidsPlaced, m.BidsWon, m.LeasesActive, m.LeasesRunning, m.ChallengeLatency,
		m.ChallengesAnswered, m.ChallengesFailed, m.GPUUtilization,
	)
	return m
}

// SetGPUUtilization records the utilization of a GPU, in percent (0 to 100).
func (m *Metrics) SetGPUUtilization(uuid string, percent uint32) {
	m.GPUUtilization.WithLabelValues(uuid).Set(float64(min(percent, 100)) / 100)
}

// ForgetGPU removes a GPU that is gone from the inventory.
func (m *Metrics) ForgetGPU(uuid string) {
	m.GPUUtilization.DeleteLabelValues(uuid)
}

// CountRunning sets what leases_running reports: fn is called at each scrape
// and must be safe for concurrent use.
func (m *Metrics) CountRunning(fn func() int) { m.running.Store(&fn) }
