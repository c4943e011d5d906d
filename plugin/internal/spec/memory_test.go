package spec

import (
	"math"
	"testing"
	"testing/fstest"
)

func TestDefaultBytesInFlight(t *testing.T) {
	const gib = int64(1) << 30
	tests := []struct {
		name  string
		procs int
		mem   int64
		want  int64
	}{
		{"per CPU when memory is plentiful", 2, 24 * gib, 2 * BytesInFlightPerCPU},
		{"memory unknown", 8, 0, 8 * BytesInFlightPerCPU},
		{"a quarter of a small limit", 16, 2 * gib, gib / 2},
		{"never below the minimum", 1, 1 << 20, MinBytesInFlight},
		{"never above the maximum", 1 << 20, 0, MaxBytesInFlight},
		{"zero procs counts as one", 0, 0, BytesInFlightPerCPU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultBytesInFlight(tt.procs, tt.mem); got != tt.want {
				t.Fatalf("defaultBytesInFlight(%d, %d) = %d, want %d", tt.procs, tt.mem, got, tt.want)
			}
		})
	}
	if d := DefaultMaxBytesInFlight(); d < MinBytesInFlight || d > MaxBytesInFlight {
		t.Fatalf("DefaultMaxBytesInFlight() = %d, outside the valid range", d)
	}
}

func TestMemoryLimit(t *testing.T) {
	meminfo := &fstest.MapFile{Data: []byte("MemTotal:       24683656 kB\nMemFree:        1 kB\n")}
	const physical = int64(24683656) << 10
	tests := []struct {
		name    string
		files   fstest.MapFS
		goLimit int64
		want    int64
	}{
		{"nothing known", fstest.MapFS{}, math.MaxInt64, 0},
		{"physical memory", fstest.MapFS{"proc/meminfo": meminfo}, math.MaxInt64, physical},
		{"GOMEMLIMIT", fstest.MapFS{"proc/meminfo": meminfo}, 1 << 30, 1 << 30},
		{"cgroup v2 namespace root", fstest.MapFS{
			"proc/meminfo":             meminfo,
			"proc/self/cgroup":         {Data: []byte("0::/\n")},
			"sys/fs/cgroup/memory.max": {Data: []byte("536870912\n")},
		}, math.MaxInt64, 512 << 20},
		{"cgroup v2 own group, unlimited", fstest.MapFS{
			"proc/meminfo":                 meminfo,
			"proc/self/cgroup":             {Data: []byte("0::/app\n")},
			"sys/fs/cgroup/app/memory.max": {Data: []byte("max\n")},
		}, math.MaxInt64, physical},
		{"cgroup v2 own group below the root's", fstest.MapFS{
			"proc/self/cgroup":             {Data: []byte("0::/app\n")},
			"sys/fs/cgroup/app/memory.max": {Data: []byte("268435456\n")},
			"sys/fs/cgroup/memory.max":     {Data: []byte("536870912\n")},
		}, math.MaxInt64, 256 << 20},
		{"cgroup v1 memory controller", fstest.MapFS{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": {Data: []byte("5:cpu,cpuacct:/x\n4:memory:/job/7\n0::/\n")},
			"sys/fs/cgroup/memory/job/7/memory.limit_in_bytes": {Data: []byte("1073741824\n")},
		}, math.MaxInt64, 1 << 30},
		{"cgroup v1 unlimited", fstest.MapFS{
			"proc/meminfo": meminfo,
			"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")},
		}, math.MaxInt64, physical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := memoryLimit(tt.files, tt.goLimit); got != tt.want {
				t.Fatalf("memoryLimit = %d, want %d", got, tt.want)
			}
		})
	}
}
