package client_test

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	pluginv3 "github.com/cloudquery/plugin-pb-go/pb/plugin/v3"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/rs/zerolog"

	"github.com/infobloxopen/cq-source-s3/internal/client"
	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// BenchmarkSync measures the plugin's own work per row, for profiling
// (scripts/bench-plugin.sh measures the real binary over gRPC): one object
// read from memory (no HTTP), every record encoded as Arrow IPC the way the
// SDK does before sending it. BENCH_PARQUET names a file to read instead of
// the generated 1M rows x 6 columns (snappy, 500k-row groups);
// BENCH_SPEC_EXTRA is merged into the spec, e.g. {"rows_per_record":10000}.
//
//	go test ./internal/client -run '^$' -bench Sync -cpuprofile cpu.out
func BenchmarkSync(b *testing.B) {
	data := benchData(b)
	api := &memAPI{objects: map[string][]byte{"data/t/part-0.parquet": data}}
	extra := os.Getenv("BENCH_SPEC_EXTRA")
	js := `{"bucket":"lake","region":"us-east-1","endpoint":"http://127.0.0.1:1","path_prefix":"data","access_key_id":"k","secret_access_key":"s"}`
	if extra != "" {
		js = js[:len(js)-1] + "," + extra[1:]
	}
	c, err := client.New(context.Background(), zerolog.Nop(), mustSpecJSON(b, js), api, false)
	if err != nil {
		b.Fatal(err)
	}
	var rows, runs int64
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		runs++
		ch := make(chan message.SyncMessage)
		done := make(chan error, 1)
		go func() {
			var err error
			for m := range ch {
				if ins, ok := m.(*message.SyncInsert); ok && err == nil {
					rows += ins.Record.NumRows()
					_, err = pluginv3.RecordToBytes(ins.Record)
				}
			}
			done <- err
		}()
		err := c.Sync(context.Background(), plugin.SyncOptions{Tables: []string{"*"}}, ch)
		close(ch)
		if e := <-done; err == nil {
			err = e
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/float64(runs), "rows/op") // scripts/bench-plugin.sh checks every row arrived
	// CPU time per row is steadier than rows/s on a shared machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(rows), "cpu-ns/row")
	b.SetBytes(int64(len(data)))
}

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchData(b *testing.B) []byte {
	if p := os.Getenv("BENCH_PARQUET"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "user_id", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer bld.Release()
	x := uint64(1)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		bld.Field(0).(*array.Int64Builder).Append(int64(i))
		bld.Field(1).(*array.Int32Builder).Append(int32(x % 1_000_000))
		bld.Field(2).(*array.Float64Builder).Append(float64(x%1_000_000_007) / 1e6)
		bld.Field(3).(*array.StringBuilder).Append("user-" + strconv.FormatUint(x%100_000, 10))
		bld.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i)*1000))
		bld.Field(5).(*array.BooleanBuilder).Append(x&1 == 1)
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	return parquettest.Write(b, tbl, 500_000, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy)))
}
