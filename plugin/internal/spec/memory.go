package spec

import (
	"bufio"
	"bytes"
	"io/fs"
	"math"
	"os"
	"path"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// BytesInFlightPerCPU is the default memory budget per CPU. Decoding is
// CPU-bound, so more objects in flight than CPUs add memory, not speed;
// small objects (whose reads wait on S3 latency) weigh little, so many still
// fit, up to "concurrency". An object of large pages weighs about 55 MiB
// (client.footprint), so two or so per CPU: measured, 8 objects of one
// 135 MB row group peak at about 200 MB on 2 CPUs (npm run bench:plugin).
const BytesInFlightPerCPU int64 = 64 << 20

// DefaultMaxBytesInFlight is the default of "max_bytes_in_flight" on this
// machine: BytesInFlightPerCPU per CPU the Go runtime uses (GOMAXPROCS, which
// follows the container's CPU limit), at most a quarter of the memory the
// process may use (cgroup limit, GOMEMLIMIT, physical memory).
func DefaultMaxBytesInFlight() int64 {
	return defaultBytesInFlight(runtime.GOMAXPROCS(0), memoryLimit(os.DirFS("/"), debug.SetMemoryLimit(-1)))
}

// defaultBytesInFlight is DefaultMaxBytesInFlight for procs CPUs and mem
// bytes of memory (0: unknown), within [MinBytesInFlight, MaxBytesInFlight].
func defaultBytesInFlight(procs int, mem int64) int64 {
	n := int64(max(procs, 1)) * BytesInFlightPerCPU
	if mem > 0 {
		n = min(n, mem/4)
	}
	return min(max(n, MinBytesInFlight), MaxBytesInFlight)
}

// memoryLimit is the least of the process's memory limits found under root
// (a view of "/"): the cgroup v2 or v1 limit of its cgroup, physical memory
// (/proc/meminfo), and goLimit (GOMEMLIMIT; math.MaxInt64 when unset).
// 0 means none is known.
func memoryLimit(root fs.FS, goLimit int64) int64 {
	var limits []int64
	if goLimit > 0 && goLimit < math.MaxInt64 {
		limits = append(limits, goLimit)
	}
	// The process's own cgroup and the namespace root (a container's own
	// limit); the least limit found applies.
	v2, v1 := cgroupPaths(root)
	for _, p := range []string{
		path.Join("sys/fs/cgroup", v2, "memory.max"), "sys/fs/cgroup/memory.max",
		path.Join("sys/fs/cgroup/memory", v1, "memory.limit_in_bytes"), "sys/fs/cgroup/memory/memory.limit_in_bytes",
	} {
		b, err := fs.ReadFile(root, p)
		if err != nil {
			continue
		}
		// "max" (v2) and a page-rounded MaxInt64 (v1) mean no limit.
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && v < 1<<62 {
			limits = append(limits, v)
		}
	}
	if b, err := fs.ReadFile(root, "proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > 0 {
					limits = append(limits, kb<<10)
				}
			}
		}
	}
	if len(limits) == 0 {
		return 0
	}
	least := limits[0]
	for _, l := range limits[1:] {
		least = min(least, l)
	}
	return least
}

// cgroupPaths returns the process's cgroup v2 path and cgroup v1 memory
// controller path from /proc/self/cgroup ("" when absent or "/").
func cgroupPaths(root fs.FS) (v2, v1 string) {
	b, err := fs.ReadFile(root, "proc/self/cgroup")
	if err != nil {
		return "", ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || parts[2] == "/" {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case strings.Contains(","+parts[1]+",", ",memory,"):
			v1 = parts[2]
		}
	}
	return v2, v1
}
