package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/crucible-network/crucible/sidecar/config"
)

// nvidiaSpec is a CDI spec shaped like the NVIDIA Container Toolkit's
// (nvidia-ctk cdi generate --device-name-strategy=uuid): per GPU a device
// named by its UUID with its /dev/nvidiaN node; common edits with the
// control nodes (/dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia-uvm-tools),
// the driver library bind mounts, the createContainer hooks
// (nvidia-cdi-hook create-symlinks and update-ldcache) and
// NVIDIA_VISIBLE_DEVICES=void. Node host paths point at fake nodes
// (major 240: no driver answers) and the hook at a script that records its
// arguments; on a real host hostPath is the path itself and the hook is
// /usr/bin/nvidia-cdi-hook.
const nvidiaSpec = `---
cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
- name: %[1]s
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
      hostPath: %[3]s/nvidia0
- name: %[2]s
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia1
      hostPath: %[3]s/nvidia1
- name: all
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
      hostPath: %[3]s/nvidia0
    - path: /dev/nvidia1
      hostPath: %[3]s/nvidia1
containerEdits:
  env:
  - NVIDIA_VISIBLE_DEVICES=void
  deviceNodes:
  - path: /dev/nvidiactl
    hostPath: %[3]s/nvidiactl
  - path: /dev/nvidia-uvm
    hostPath: %[3]s/nvidia-uvm
  - path: /dev/nvidia-uvm-tools
    hostPath: %[3]s/nvidia-uvm-tools
  hooks:
  - hookName: createContainer
    path: %[4]s
    args:
    - nvidia-cdi-hook
    - create-symlinks
    - --link
    - libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so
  - hookName: createContainer
    path: %[4]s
    args:
    - nvidia-cdi-hook
    - update-ldcache
    - --folder
    - /usr/lib/x86_64-linux-gnu
  mounts:
  - hostPath: %[5]s
    containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15
    options:
    - ro
    - nosuid
    - nodev
    - bind
`

// TestContainerNvidiaCDISpec runs a job on one GPU of a spec shaped like
// the NVIDIA Container Toolkit's, found in the second of two spec dirs
// (as /etc/cdi and /var/run/cdi: the toolkit writes either): the container
// sees its GPU's node and the control nodes, not the other GPU's (nor can
// it open it), gets the driver library mount, and the toolkit's hooks ran.
func TestContainerNvidiaCDISpec(t *testing.T) {
	if d := config.DefaultRunnerConfig().CDISpecDirs; !slices.Equal(d, []string{"/etc/cdi", "/var/run/cdi"}) {
		t.Fatalf("default cdi_spec_dirs %v", d)
	}
	root := t.TempDir()
	etc, run, dev := filepath.Join(root, "etc-cdi"), filepath.Join(root, "var-run-cdi"), filepath.Join(root, "dev")
	for _, d := range []string{etc, run, dev} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range []string{"nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"} {
		if err := unix.Mknod(filepath.Join(dev, n), unix.S_IFCHR|0o666, int(unix.Mkdev(240, uint32(10+i)))); err != nil {
			t.Skipf("cannot make fake device nodes: %v", err)
		}
	}
	lib := filepath.Join(root, "libcuda.so.550.54.15")
	if err := os.WriteFile(lib, []byte("fake libcuda\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The hook records its arguments where the container's root (an
	// unprivileged host uid with a user namespace) may write.
	hookOut := filepath.Join(root, "hooks")
	if err := os.MkdirAll(hookOut, 0o777); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(hookOut, 0o777)
	_ = os.Chmod(root, 0o755)
	hook := filepath.Join(root, "nvidia-cdi-hook")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$@\" >> "+hookOut+"/log\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	const gpu0, gpu1 = "GPU-3a1d4c2e-0000-1111-2222-333344445555", "GPU-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff"
	spec := fmt.Sprintf(nvidiaSpec, gpu0, gpu1, dev, hook, lib)
	if err := os.WriteFile(filepath.Join(run, "nvidia.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newContainerEnv(t, func(c *config.RunnerConfig) { c.CDISpecDirs = []string{etc, run} })
	script := `
echo devs=$(ls /dev | grep nvidia | tr '\n' ' ')
cat /dev/nvidia1 >/dev/null 2>&1; echo other_open=$?
echo lib=$(cat /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15)
echo cuda=$CUDA_VISIBLE_DEVICES
`
	start(t, e.r, 60, imageManifest(t, e.image, script, nil), gpu0)
	st := wait(t, e.r, 60)
	log := readLog(t, e.r, 60)
	t.Logf("log:\n%s", log)
	if st.State != StateSucceeded {
		t.Fatalf("state %s (%s)", st.State, st.Reason)
	}
	v := logValues(log)
	if got := strings.Fields(v["devs"]); !slices.Equal(got, []string{"nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidiactl"}) {
		t.Errorf("devices %v: want the leased GPU's node and the control nodes only", got)
	}
	if v["other_open"] == "0" {
		t.Error("opened the GPU it did not lease")
	}
	if v["lib"] != "fake libcuda" {
		t.Errorf("driver library mount: %q", v["lib"])
	}
	if v["cuda"] != gpu0 {
		t.Errorf("CUDA_VISIBLE_DEVICES=%q", v["cuda"])
	}
	ran, _ := os.ReadFile(filepath.Join(hookOut, "log"))
	if !strings.Contains(string(ran), "create-symlinks") || !strings.Contains(string(ran), "update-ldcache") {
		t.Errorf("the toolkit's hooks did not run: %q", ran)
	}
}
