// Package nodebench measures the real binaries: crucibled started as a
// process from a genesis holding n ACTIVE leases, and crucible-sidecar
// serving one provider against it, under a load of signed transactions
// broadcast over gRPC, while their resident memory is sampled from /proc.
// Everything lives in the package's benchmarks (BenchmarkNodePeakRSS); it
// holds no code of its own and no test that `make test` would run.
package nodebench
