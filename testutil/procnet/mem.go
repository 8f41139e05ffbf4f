package procnet

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mem is a process's memory as the kernel reports it in /proc/<pid>/status,
// in MiB.
type Mem struct {
	RSS  float64 // VmRSS: resident now
	Peak float64 // VmHWM: the largest RSS the process has had (its peak RSS)
}

// ReadMem reads the VmRSS and VmHWM of process pid (Linux only).
func ReadMem(pid int) (Mem, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Mem{}, err
	}
	defer f.Close()
	var m Mem
	found := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		var dst *float64
		key, rest, _ := strings.Cut(s.Text(), ":")
		switch key {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.Peak
		default:
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return Mem{}, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		*dst = kb / 1024
		found++
	}
	if err := s.Err(); err != nil {
		return Mem{}, err
	}
	if found != 2 {
		return Mem{}, fmt.Errorf("/proc/%d/status: no VmRSS/VmHWM (a zombie or a kernel thread)", pid)
	}
	return m, nil
}
