package config

import "time"

// Upper bounds that catch unit mistakes (milliseconds for seconds, bits for bytes).
const (
	maxJobTimeLimit     = 366 * 24 * time.Hour
	maxOutputBytesLimit = 1 << 40
)

// RunnerConfig bounds the jobs the lease runner runs.
type RunnerConfig struct {
	// WorkDir holds one directory per lease; relative paths are under the sidecar home.
	WorkDir string `yaml:"work_dir" json:"work_dir"`
	// MaxJobTime stops a job that runs longer.
	MaxJobTime Duration `yaml:"max_job_time" json:"max_job_time"`
	// MaxOutputBytes caps the output a job may produce.
	MaxOutputBytes uint64 `yaml:"max_output_bytes" json:"max_output_bytes"`
}

// DefaultRunnerConfig allows jobs of up to a day and 1 GiB of output.
func DefaultRunnerConfig() RunnerConfig {
	return RunnerConfig{
		WorkDir:        "work",
		MaxJobTime:     Duration(24 * time.Hour),
		MaxOutputBytes: 1 << 30,
	}
}

// TestRunnerConfig has short, small limits.
func TestRunnerConfig() RunnerConfig {
	return RunnerConfig{
		WorkDir:        "work",
		MaxJobTime:     Duration(time.Minute),
		MaxOutputBytes: 1 << 20,
	}
}

// ValidateBasic checks that the limits are positive and plausible.
func (c RunnerConfig) ValidateBasic() error {
	if c.WorkDir == "" {
		return fieldErrorf("work_dir", "must not be empty")
	}
	if c.MaxJobTime.Std() < time.Second {
		return fieldErrorf("max_job_time", "%s is less than 1s", c.MaxJobTime)
	}
	if c.MaxJobTime.Std() > maxJobTimeLimit {
		return fieldErrorf("max_job_time", "%s is more than %s", c.MaxJobTime, maxJobTimeLimit)
	}
	if c.MaxOutputBytes == 0 {
		return fieldErrorf("max_output_bytes", "must be positive")
	}
	if c.MaxOutputBytes > maxOutputBytesLimit {
		return fieldErrorf("max_output_bytes", "%d is more than 1 TiB", c.MaxOutputBytes)
	}
	return nil
}
