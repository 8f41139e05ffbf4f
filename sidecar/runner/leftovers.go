package runner

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// killLeftovers SIGKILLs what is left of a job that was live when the
// sidecar died. Pdeathsig only reaches the job's first process; whatever it
// started (a shell's children, a trainer's workers) lives on in the job's
// process group, on the lease's GPUs, after the job is recorded as failed.
// A process is killed only when it is in process group pgid AND carries the
// job's CRUCIBLE_WORK_DIR in its environment, so a process group id reused
// by an unrelated program (after a reboot, say) is left alone. It returns
// how many processes it signalled; without /proc it does nothing.
func killLeftovers(pgid int, jobDir string) int {
	if pgid <= 1 {
		return 0
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	mark := []byte(EnvWorkDir + "=" + jobDir)
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 || pid == os.Getpid() {
			continue
		}
		if procGroup(pid) != pgid {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !hasEnv(env, mark) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

// procGroup returns the process group of pid from /proc/<pid>/stat (-1 if
// unknown). The fields after the command's closing parenthesis are
// state, ppid, pgrp.
func procGroup(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return -1
	}
	g, err := strconv.Atoi(f[2])
	if err != nil {
		return -1
	}
	return g
}

// hasEnv reports whether the NUL-separated environment holds the exact
// KEY=VALUE entry.
func hasEnv(environ, entry []byte) bool {
	for _, kv := range bytes.Split(environ, []byte{0}) {
		if bytes.Equal(kv, entry) {
			return true
		}
	}
	return false
}
