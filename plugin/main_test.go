package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	discoveryv1 "github.com/cloudquery/plugin-pb-go/pb/discovery/v1"
	pluginv3 "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

const testVersion = "v9.8.7-test"

// Environment for scripts/verify-static.sh, which reuses this test on
// cross-built binaries: a prebuilt binary, its expected version, and a
// wrapper to run it with (qemu-aarch64-static for arm64).
const (
	envBinary  = "CQ_SOURCE_S3_BINARY"
	envVersion = "CQ_SOURCE_S3_BINARY_VERSION"
	envWrapper = "CQ_SOURCE_S3_EXEC_WRAPPER"
)

// TestServeBinary builds the real binary, serves it on 127.0.0.1 and drives it
// over gRPC like the CloudQuery CLI. It builds with the test's own flags (no
// -trimpath, inherited CGO setting) so the package cache from compiling this
// test is reused; scripts/verify-static.sh checks the Dockerfile's exact build.
func TestServeBinary(t *testing.T) {
	bin, wantVersion := os.Getenv(envBinary), os.Getenv(envVersion)
	if bin == "" {
		bin, wantVersion = filepath.Join(t.TempDir(), "cq-source-s3"), testVersion
		build := exec.Command("go", "build", "-ldflags", "-s -w -X github.com/infobloxopen/cq-source-s3/plugin.Version="+testVersion, "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	} else if wantVersion == "" {
		t.Fatalf("%s is set but %s is not", envBinary, envVersion)
	}
	argv := []string{bin, "serve"}
	if w := os.Getenv(envWrapper); w != "" {
		argv = append([]string{w}, argv...)
	}

	endpoint := startEmulator(t, map[string][]byte{
		"lake/metrics/cpu/part-0.parquet": parquetInts(t, "value", 1, 2, 3),
		"lake/metrics/cpu/part-1.parquet": parquetInts(t, "value", 4),
		"lake/hosts.parquet":              parquetInts(t, "id", 42),
		// Corrupt objects among the good ones: arrow-go dereferenced the missing
		// chunk metadata in a goroutine of its own and the process died (the
		// CLI saw "Unavailable ... EOF" and every table got zero rows); the
		// short one silently yielded part of its rows.
		"lake/metrics/cpu/part-2.parquet": withoutChunkMetadata(t, parquetInts(t, "value", 100, 200)),
		"lake/metrics/cpu/part-3.parquet": shortData(t, parquetInts(t, "value", 300, 400, 500)),
	})

	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var logs lockedBuffer // read while the process still writes
	cmd := exec.Command(argv[0], append(argv[1:], "--address", addr, "--log-format", "json", "--log-level", "debug")...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "CQ_TELEMETRY_LEVEL=none")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("plugin output:\n%s", logs.String())
		}
	})

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()

	versions := waitReady(ctx, t, discoveryv1.NewDiscoveryClient(conn))
	if !containsInt(versions, 3) {
		t.Fatalf("protocol versions %v lack 3", versions)
	}

	pc := pluginv3.NewPluginClient(conn)
	name, err := pc.GetName(ctx, &pluginv3.GetName_Request{})
	if err != nil || name.Name != "s3" {
		t.Fatalf("GetName = %v, %v", name, err)
	}
	version, err := pc.GetVersion(ctx, &pluginv3.GetVersion_Request{})
	if err != nil || version.Version != wantVersion {
		t.Fatalf("GetVersion = %v, %v; want %s (from -ldflags -X <module>/plugin.Version)", version, err, wantVersion)
	}

	// A bad spec is refused at Init with a message naming the key.
	_, err = pc.Init(ctx, &pluginv3.Init_Request{Spec: []byte(`{"bucket":"s3://x","region":"us-east-1"}`)})
	if err == nil || !strings.Contains(err.Error(), `"bucket" must be a bucket name, not a URL`) {
		t.Fatalf("Init with bad spec: %v", err)
	}

	spec := fmt.Sprintf(`{"bucket":"warehouse","region":"us-east-1","endpoint":%q,"path_prefix":"lake","access_key_id":"k","secret_access_key":"s","rows_per_record":2}`, endpoint)
	if _, err := pc.Init(ctx, &pluginv3.Init_Request{Spec: []byte(spec)}); err != nil {
		t.Fatalf("Init: %v", err)
	}
	tablesResp, err := pc.GetTables(ctx, &pluginv3.GetTables_Request{Tables: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, b := range tablesResp.Tables {
		sc, err := pluginv3.NewSchemaFromBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := schema.NewTableFromArrowSchema(sc)
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, fmt.Sprintf("%s(%s)", tbl.Name, strings.Join(tbl.Columns.Names(), ",")))
	}
	if got := strings.Join(tables, " "); got != "hosts(id) metrics_cpu(value)" {
		t.Fatalf("tables = %s", got)
	}

	stream, err := pc.Sync(ctx, &pluginv3.Sync_Request{Tables: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	counts := map[string]int64{}
	for {
		msg, err := stream.Recv()
		if err != nil {
			if strings.Contains(err.Error(), "EOF") {
				break
			}
			t.Fatalf("sync stream: %v", err)
		}
		ins := msg.GetInsert()
		if ins == nil {
			continue
		}
		rec, err := pluginv3.NewRecordFromBytes(ins.Record)
		if err != nil {
			t.Fatal(err)
		}
		tableName, _ := rec.Schema().Metadata().GetValue(schema.MetadataTableName)
		if rec.NumRows() > 2 {
			t.Errorf("record of %d rows exceeds rows_per_record 2", rec.NumRows())
		}
		for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
			sums[tableName] += v
			counts[tableName]++
		}
	}
	if fmt.Sprint(counts) != "map[hosts:1 metrics_cpu:4]" || fmt.Sprint(sums) != "map[hosts:42 metrics_cpu:10]" {
		t.Fatalf("counts %v sums %v", counts, sums)
	}
	// The process survived and said why each bad object was skipped.
	if _, err := pc.GetName(ctx, &pluginv3.GetName_Request{}); err != nil {
		t.Fatalf("plugin not serving after the sync: %v", err)
	}
	out := logs.String()
	for _, want := range []string{
		`malformed parquet: s3://warehouse/lake/metrics/cpu/part-2.parquet: row group 0, column \"value\": column chunk has no metadata`,
		`incomplete parquet: s3://warehouse/lake/metrics/cpu/part-3.parquet: row group 0, column \"value\": parquet: deserializing page header failed: its pages run past the data region`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plugin log lacks %q:\n%s", want, out)
		}
	}
}

func waitReady(ctx context.Context, t *testing.T, dc discoveryv1.DiscoveryClient) []int32 {
	t.Helper()
	var lastErr error
	for i := 0; i < 300; i++ { // bounded: 300 × (≤1 s + 100 ms), and ctx
		reqCtx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := dc.GetVersions(reqCtx, &discoveryv1.GetVersions_Request{})
		cancel()
		if err == nil {
			return resp.Versions
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("plugin not ready: %v", lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("plugin not ready after 300 attempts: %v", lastErr)
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func startEmulator(t *testing.T, objects map[string][]byte) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("warehouse"); err != nil {
		t.Fatal(err)
	}
	for k, v := range objects {
		if _, err := backend.PutObject("warehouse", k, map[string]string{}, bytes.NewReader(v), int64(len(v)), nil); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

func parquetInts(t *testing.T, column string, values ...int64) []byte {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{{Name: column, Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(values, nil)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(sc, []arrow.Array{col}, int64(len(values)))
	defer rec.Release()
	return parquettest.WriteRecord(t, rec, 1024)
}

func withoutChunkMetadata(t *testing.T, good []byte) []byte {
	return parquettest.Rewrite(t, good, func(n int) int { return n }, func(md *metadata.FileMetaData) { md.RowGroups[0].Columns[0].MetaData = nil })
}

func shortData(t *testing.T, good []byte) []byte {
	return parquettest.Rewrite(t, good, func(n int) int { return n * 7 / 10 }, func(*metadata.FileMetaData) {})
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func containsInt(vs []int32, want int32) bool {
	for _, v := range vs {
		if v == want {
			return true
		}
	}
	return false
}
