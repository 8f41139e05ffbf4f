package runner

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// State is the state of a lease's job.
type State string

// Job states. Pending and Running are live; the others are final.
const (
	StatePending   State = "pending"
	StateRunning   State = "running"
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// Final reports whether s is a final state.
func (s State) Final() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCancelled
}

// Reasons recorded in Status.Reason by the runner itself.
const (
	ReasonRestarted = "sidecar restarted"
	ReasonStopped   = "sidecar stopped"
	ReasonCancelled = "cancelled"
)

// HexBytes is a byte string written in JSON as lowercase hex.
type HexBytes []byte

// MarshalText implements encoding.TextMarshaler.
func (h HexBytes) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(h)), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *HexBytes) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// String returns the hex form.
func (h HexBytes) String() string { return hex.EncodeToString(h) }

// Status is what the runner knows of a lease's job. It is persisted as
// <work_dir>/leases/<lease>/status.json on every change.
type Status struct {
	LeaseID      uint64    `json:"lease_id"`
	State        State     `json:"state"`
	ManifestHash HexBytes  `json:"manifest_hash"`
	GPUs         []string  `json:"gpus"`
	CreatedAt    time.Time `json:"created_at"`
	StartedAt    time.Time `json:"started_at,omitzero"`
	FinishedAt   time.Time `json:"finished_at,omitzero"`
	// TimeLimit is the limit the job ran under.
	TimeLimit string `json:"time_limit"`
	// OutputsDir is the outputs directory, relative to the job directory.
	OutputsDir string `json:"outputs_dir"`
	// Backend is the backend that runs the job (container or process).
	Backend string `json:"backend,omitempty"`
	// Image is the image reference the manifest names.
	Image string `json:"image,omitempty"`
	// ImageDigest is the digest of the image pulled (a tag resolved once).
	ImageDigest string `json:"image_digest,omitempty"`
	// Service is set for a workload that runs until the lease ends.
	Service bool `json:"service,omitempty"`
	// Ports are the ports reachable through the tenant API's proxy.
	Ports []Port `json:"ports,omitempty"`
	// PID is the job's process (and process group) id while it runs.
	PID int `json:"pid,omitempty"`
	// ExitCode is the process's exit code; nil when it did not exit by
	// itself (not started, killed by a signal, or unknown).
	ExitCode *int `json:"exit_code,omitempty"`
	// Reason says why the job failed or was cancelled.
	Reason string `json:"reason,omitempty"`
	// LogBytes is the size of the job's log.
	LogBytes int64 `json:"log_bytes"`
	// Result is set when State is succeeded.
	Result *Result `json:"result,omitempty"`
}

// Result is a succeeded job's result: what the provider posts on chain
// (MsgSubmitResult carries Hash and Location) and the tenant downloads.
type Result struct {
	LeaseID uint64 `json:"lease_id"`
	// Hash is ResultHash of Files.
	Hash HexBytes `json:"hash"`
	// Files lists the regular files of the outputs directory, sorted by path.
	Files []File `json:"files"`
	// Location is where the tenant fetches them: sidecar://<lease>/results.
	Location string `json:"location"`
}

// File is one result file.
type File struct {
	// Path is slash-separated, relative to the outputs directory.
	Path   string   `json:"path"`
	Size   int64    `json:"size"`
	SHA256 HexBytes `json:"sha256"`
}

// Location returns the result location of a lease.
func Location(leaseID uint64) string { return fmt.Sprintf("sidecar://%d/results", leaseID) }

// clone returns a deep copy.
func (s Status) clone() Status {
	out := s
	out.ManifestHash = append(HexBytes(nil), s.ManifestHash...)
	out.GPUs = append([]string(nil), s.GPUs...)
	out.Ports = append([]Port(nil), s.Ports...)
	if s.ExitCode != nil {
		c := *s.ExitCode
		out.ExitCode = &c
	}
	if s.Result != nil {
		r := *s.Result
		r.Files = append([]File(nil), s.Result.Files...)
		out.Result = &r
	}
	return out
}

const statusFile = "status.json"

// writeStatus writes dir/status.json atomically (writeJSON).
func writeStatus(dir string, s Status) error {
	if err := writeJSON(dir, statusFile, s); err != nil {
		return fmt.Errorf("runner: write status: %w", err)
	}
	return nil
}

// writeJSON writes v as indented JSON to dir/name atomically: a temporary
// file, fsync, rename, fsync of the directory.
func writeJSON(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	tmp, err := os.CreateTemp(dir, "."+name+"-*.tmp")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmpName, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmpName)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// readStatus reads dir/status.json.
func readStatus(dir string) (Status, error) {
	var s Status
	b, err := os.ReadFile(filepath.Join(dir, statusFile))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("runner: %s: %w", filepath.Join(dir, statusFile), err)
	}
	return s, nil
}
