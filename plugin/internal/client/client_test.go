package client_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/rs/zerolog"

	"github.com/infobloxopen/cq-source-s3/internal/client"
	"github.com/infobloxopen/cq-source-s3/internal/spec"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

const bucket = "lake"

var (
	userSchema = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	otherSchema = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
	}, nil)
	dupSchema = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	eventSchema = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
)

// parquetFile writes rows [from, from+n) of sc as Parquet with row groups of rowGroup rows.
// Column values derive from the row id so tests can check them exactly.
func parquetFile(t *testing.T, sc *arrow.Schema, from, n int, rowGroup int64) []byte {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := from; i < from+n; i++ {
		for c, f := range sc.Fields() {
			switch fb := b.Field(c).(type) {
			case *array.Int64Builder:
				fb.Append(int64(i))
			case *array.Float64Builder:
				fb.Append(float64(i) / 4)
			case *array.StringBuilder:
				fb.Append(fmt.Sprintf("%s-%d", f.Name, i))
			default:
				t.Fatalf("unsupported builder %T", fb)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return parquettest.WriteRecord(t, rec, rowGroup)
}

// damaged rewrites the footer of a valid file after edit, keeping the first
// keep fraction of its data region: the footer stays intact, the data may not.
func damaged(t *testing.T, good []byte, keep float64, edit func(*metadata.FileMetaData)) []byte {
	return parquettest.Rewrite(t, good, func(n int) int { return int(float64(n) * keep) }, edit)
}

type fixture struct {
	backend *s3mem.Backend
	api     *s3.Client
	url     string
}

func newFixture(t *testing.T, objects map[string][]byte, opts ...s3mem.Option) *fixture {
	t.Helper()
	backend := s3mem.New(opts...)
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	for k, v := range objects {
		if _, err := backend.PutObject(bucket, k, map[string]string{}, bytes.NewReader(v), int64(len(v)), nil); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server()) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	s := mustSpec(t, srv.URL, 1, 1)
	api, err := client.NewS3(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{backend: backend, api: api, url: srv.URL}
}

func mustSpec(t *testing.T, endpoint string, rowsPerRecord, concurrency int) spec.Spec {
	t.Helper()
	return mustSpecJSON(t, fmt.Sprintf(
		`{"bucket":%q,"region":"us-east-1","endpoint":%q,"path_prefix":"data","access_key_id":"test","secret_access_key":"test","rows_per_record":%d,"concurrency":%d}`,
		bucket, endpoint, rowsPerRecord, concurrency))
}

func mustSpecJSON(t testing.TB, js string) spec.Spec {
	t.Helper()
	s, err := spec.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// vanishingAPI deletes victim from the store the first time it is fetched
// after being armed: the object was listed by the sync, then disappears.
type vanishingAPI struct {
	client.API
	backend *s3mem.Backend
	victim  string
	armed   bool
	once    sync.Once
}

func (v *vanishingAPI) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if v.armed && aws.ToString(in.Key) == v.victim {
		v.once.Do(func() {
			if _, err := v.backend.DeleteObject(bucket, v.victim); err != nil {
				panic(err)
			}
		})
	}
	return v.API.GetObject(ctx, in, opts...)
}

// syncWriter is a concurrency-safe log sink for assertions on warnings.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func lakeObjects(t *testing.T) map[string][]byte {
	good := parquetFile(t, userSchema, 100, 4, 1024)
	return map[string][]byte{
		"data/users.parquet":        parquetFile(t, userSchema, 1, 3, 1024),
		"data/sales/part-0.parquet": parquetFile(t, userSchema, 10, 2, 1024),
		"data/sales/part-1.parquet": parquetFile(t, userSchema, 12, 3, 2),
		"data/sales/part-2.parquet": parquetFile(t, otherSchema, 0, 5, 1024), // schema mismatch
		"data/sales/part-3.parquet": []byte("this is not parquet at all"),    // corrupt
		"data/sales/part-4.parquet": good[:len(good)/2],                      // truncated
		"data/sales/part-5.parquet": damaged(t, good, 0.7, nil),              // footer intact, last 30% of the data gone
		"data/sales/part-6.parquet": damaged(t, good, 1, func(md *metadata.FileMetaData) { // arrow-go panicked in its own goroutine
			md.RowGroups[0].Columns[1].MetaData = nil
		}),
		"data/events/eu/a.parquet":     parquetFile(t, eventSchema, 0, 1200, 300),
		"data/events/eu/b.parquet":     parquetFile(t, eventSchema, 5000, 7, 1024), // deleted mid-sync
		"data/events/eu/c.parquet":     parquetFile(t, eventSchema, 2000, 5, 1024),
		"data/broken/only.parquet":     []byte("PAR1garbagePAR1"),               // a table with no readable object
		"data/dupes/a.parquet":         parquetFile(t, dupSchema, 0, 2, 1024),   // duplicate column names: unusable as a schema
		"data/dupes/b.parquet":         parquetFile(t, userSchema, 50, 2, 1024), // so b defines the table; a is skipped at sync
		"data/@@/unnameable.parquet":   parquetFile(t, userSchema, 0, 1, 1024),
		"data/readme.txt":              []byte("ignored"),
		"other/outside-prefix.parquet": parquetFile(t, userSchema, 0, 1, 1024),
	}
}

type tableRows struct {
	ids     []int64
	names   []string
	amounts []float64
	batches []int64
}

func collect(t *testing.T, msgs []message.SyncMessage) (migrated []string, rows map[string]*tableRows) {
	t.Helper()
	rows = map[string]*tableRows{}
	for _, m := range msgs {
		switch m := m.(type) {
		case *message.SyncMigrateTable:
			migrated = append(migrated, m.Table.Name)
		case *message.SyncInsert:
			name, ok := m.Record.Schema().Metadata().GetValue(schema.MetadataTableName)
			if !ok {
				t.Fatalf("record without table name metadata: %v", m.Record.Schema())
			}
			tr := rows[name]
			if tr == nil {
				tr = &tableRows{}
				rows[name] = tr
			}
			tr.batches = append(tr.batches, m.Record.NumRows())
			for c, f := range m.Record.Schema().Fields() {
				col := m.Record.Column(c)
				switch f.Name {
				case "id":
					tr.ids = append(tr.ids, col.(*array.Int64).Int64Values()...)
				case "name":
					for i := 0; i < col.Len(); i++ {
						tr.names = append(tr.names, col.(*array.String).Value(i))
					}
				case "amount":
					tr.amounts = append(tr.amounts, col.(*array.Float64).Float64Values()...)
				}
			}
		default:
			t.Fatalf("unexpected message %T", m)
		}
	}
	sort.Strings(migrated)
	for _, tr := range rows {
		sort.Slice(tr.ids, func(i, j int) bool { return tr.ids[i] < tr.ids[j] })
		sort.Strings(tr.names)
		sort.Float64s(tr.amounts)
	}
	return migrated, rows
}

func seq(from, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(from + i)
	}
	return out
}

func runSync(t *testing.T, c *client.Client, tables []string) []message.SyncMessage {
	t.Helper()
	return runSyncOptions(t, c, plugin.SyncOptions{Tables: tables})
}

// runSyncOptions runs one sync and returns every message it sent.
func runSyncOptions(t *testing.T, c *client.Client, opts plugin.SyncOptions) []message.SyncMessage {
	t.Helper()
	ch := make(chan message.SyncMessage)
	var msgs []message.SyncMessage
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ch {
			msgs = append(msgs, m)
		}
	}()
	err := c.Sync(context.Background(), opts, ch)
	close(ch)
	<-done
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return msgs
}

func TestSyncAgainstEmulator(t *testing.T) {
	objects := lakeObjects(t)
	for _, tc := range []struct {
		rowsPerRecord, concurrency int
	}{{500, 50}, {7, 1}, {1, 3}} {
		t.Run(fmt.Sprintf("rows_per_record=%d,concurrency=%d", tc.rowsPerRecord, tc.concurrency), func(t *testing.T) {
			f := newFixture(t, objects)
			api := &vanishingAPI{API: f.api, backend: f.backend, victim: "data/events/eu/b.parquet"}
			logs := &syncWriter{}
			c, err := client.New(context.Background(), zerolog.New(logs), mustSpec(t, f.url, tc.rowsPerRecord, tc.concurrency), api, false)
			if err != nil {
				t.Fatalf("New: %v", err)
			}

			tables, err := c.Tables(context.Background(), plugin.TableOptions{Tables: []string{"*"}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Join(tables.TableNames(), ","), "dupes,events_eu,sales,users"; got != want {
				t.Fatalf("tables = %s, want %s", got, want)
			}
			if got := tables.Get("events_eu").Columns.Names(); strings.Join(got, ",") != "id,amount" {
				t.Fatalf("events_eu columns = %v", got)
			}

			api.armed = true
			migrated, rows := collect(t, runSync(t, c, []string{"*"}))
			if strings.Join(migrated, ",") != "dupes,events_eu,sales,users" {
				t.Fatalf("migrated = %v", migrated)
			}
			if len(rows) != 4 {
				t.Fatalf("rows for %d tables, want 4", len(rows))
			}
			assertInts(t, "dupes ids", rows["dupes"].ids, seq(50, 2))

			users := rows["users"]
			assertInts(t, "users ids", users.ids, seq(1, 3))
			assertStrings(t, "users names", users.names, []string{"name-1", "name-2", "name-3"})

			// part-0 and part-1 only: the mismatching, corrupt and truncated parts are skipped.
			sales := rows["sales"]
			assertInts(t, "sales ids", sales.ids, seq(10, 5))
			assertStrings(t, "sales names", sales.names, []string{"name-10", "name-11", "name-12", "name-13", "name-14"})

			// a (1200 rows) and c (5 rows); b vanished after the listing.
			ev := rows["events_eu"]
			assertInts(t, "events ids", ev.ids, append(seq(0, 1200), seq(2000, 5)...))
			var sum float64
			for _, a := range ev.amounts {
				sum += a
			}
			if want := float64(1199*1200/2+(2000+2004)*5/2) / 4; sum != want {
				t.Errorf("sum(amount) = %v, want %v", sum, want)
			}

			for name, tr := range rows {
				for _, n := range tr.batches {
					if n < 1 || n > int64(tc.rowsPerRecord) {
						t.Errorf("%s: batch of %d rows, rows_per_record %d", name, n, tc.rowsPerRecord)
					}
				}
			}
			// a.parquet alone: 1200 rows in full batches plus one remainder.
			if tc.rowsPerRecord == 500 {
				if got := fmt.Sprint(rows["events_eu"].batches); !strings.Contains(got, "500 500 200") && !sameMultiset(rows["events_eu"].batches, []int64{500, 500, 200, 5}) {
					t.Errorf("events_eu batches = %v, want 500,500,200 from a.parquet and 5 from c.parquet", got)
				}
			}

			log := logs.String()
			for _, want := range []string{
				`"key":"data/sales/part-2.parquet"`, "schema mismatch",
				`"key":"data/sales/part-3.parquet"`, `"key":"data/sales/part-4.parquet"`, "malformed parquet",
				`"key":"data/sales/part-5.parquet"`, `incomplete parquet: s3://lake/data/sales/part-5.parquet: row group 0, column \"name\": `, `: its pages run past the data region`,
				`malformed parquet: s3://lake/data/sales/part-6.parquet: row group 0, column \"name\": column chunk has no metadata`,
				`"key":"data/events/eu/b.parquet"`, "object vanished after listing",
				`"table":"broken"`, "no readable object",
				"duplicate column id in table dupes", `"key":"data/dupes/a.parquet"`,
				`"key":"data/@@/unnameable.parquet"`,
			} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
			if strings.Contains(log, "outside-prefix") || strings.Contains(log, "readme.txt") {
				t.Errorf("objects outside the prefix or not Parquet were considered:\n%s", log)
			}
		})
	}
}

func TestSyncSelectsTables(t *testing.T) {
	f := newFixture(t, lakeObjects(t))
	c, err := client.New(context.Background(), zerolog.Nop(), mustSpec(t, f.url, 500, 50), f.api, false)
	if err != nil {
		t.Fatal(err)
	}
	migrated, rows := collect(t, runSync(t, c, []string{"user*"}))
	if strings.Join(migrated, ",") != "users" || len(rows) != 1 || len(rows["users"].ids) != 3 {
		t.Fatalf("migrated %v, rows %v", migrated, rows)
	}
}

func TestNewFailsClearlyWhenBucketMissing(t *testing.T) {
	f := newFixture(t, nil)
	s := mustSpec(t, f.url, 500, 50)
	s.Bucket = "does-not-exist"
	_, err := client.New(context.Background(), zerolog.Nop(), s, f.api, false)
	if err == nil || !strings.Contains(err.Error(), "list s3://does-not-exist/data/") {
		t.Fatalf("err = %v, want a listing error naming the bucket and prefix", err)
	}
}

func TestNoConnectionSkipsS3(t *testing.T) {
	s := mustSpec(t, "http://127.0.0.1:1", 500, 50) // nothing listens on port 1
	c, err := client.New(context.Background(), zerolog.Nop(), s, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.Tables(context.Background(), plugin.TableOptions{Tables: []string{"*"}})
	if err != nil || len(tables) != 0 {
		t.Fatalf("tables = %v, err = %v", tables, err)
	}
}

func sameMultiset(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]int64(nil), a...)
	y := append([]int64(nil), b...)
	sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
	sort.Slice(y, func(i, j int) bool { return y[i] < y[j] })
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func assertInts(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got %d values %v, want %d values", what, len(got), trim(got), len(want))
	}
}

func assertStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func trim(v []int64) []int64 {
	if len(v) > 20 {
		return v[:20]
	}
	return v
}
