package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/state"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/rs/zerolog"

	"github.com/infobloxopen/cq-source-s3/internal/client"
)

// memState is an in-memory CloudQuery state backend; values become visible
// to later syncs only on Flush, like the real one.
type memState struct {
	mu      sync.Mutex
	pending map[string]string
	flushed map[string]string
	closed  int
}

func newMemState() *memState {
	return &memState{pending: map[string]string{}, flushed: map[string]string{}}
}

func (m *memState) SetKey(_ context.Context, k, v string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending[k] = v
	return nil
}

func (m *memState) GetKey(_ context.Context, k string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.flushed[k], nil
}

func (m *memState) Flush(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.pending {
		m.flushed[k] = v
	}
	return nil
}

func (m *memState) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed++
	return nil
}

// flakyAPI fails every GET of the keys in failing with a server error.
type flakyAPI struct {
	client.API
	mu      sync.Mutex
	failing map[string]bool
}

func (f *flakyAPI) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	fail := f.failing[aws.ToString(in.Key)]
	f.mu.Unlock()
	if fail {
		return nil, errors.New("simulated 503 SlowDown")
	}
	return f.API.GetObject(ctx, in, opts...)
}

func (f *flakyAPI) setFailing(keys ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = map[string]bool{}
	for _, k := range keys {
		f.failing[k] = true
	}
}

func incrementalSpecJSON(endpoint string) string {
	return fmt.Sprintf(`{"bucket":%q,"region":"us-east-1","endpoint":%q,"path_prefix":"data","access_key_id":"k","secret_access_key":"s","incremental":true,"concurrency":4}`, bucket, endpoint)
}

func TestIncrementalSync(t *testing.T) {
	clock := gofakes3.FixedTimeSource(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	f := newFixture(t, map[string][]byte{
		"data/sales/a.parquet": parquetFile(t, userSchema, 1, 2, 1024),
		"data/sales/b.parquet": parquetFile(t, userSchema, 3, 2, 1024),
		"data/users.parquet":   parquetFile(t, userSchema, 100, 1, 1024),
	}, s3mem.WithTimeSource(clock))
	put := func(key string, data []byte) {
		t.Helper()
		clock.Advance(2 * time.Second)
		if _, err := f.backend.PutObject(bucket, key, map[string]string{}, strings.NewReader(string(data)), int64(len(data)), nil); err != nil {
			t.Fatal(err)
		}
	}
	st := newMemState()
	var connects int
	factory := func(_ context.Context, b *plugin.BackendOptions) (state.Client, error) {
		if b.TableName != "cq_state_s3" {
			t.Errorf("backend table %q", b.TableName)
		}
		connects++
		return st, nil
	}
	api := &flakyAPI{API: f.api}
	s := mustSpecJSON(t, incrementalSpecJSON(f.url))
	c, err := client.New(context.Background(), zerolog.Nop(), s, api, false, client.WithStateFactory(factory))
	if err != nil {
		t.Fatal(err)
	}
	tables, _ := c.Tables(context.Background(), plugin.TableOptions{Tables: []string{"*"}})
	for _, tbl := range tables {
		if !tbl.IsIncremental {
			t.Errorf("table %s not marked incremental", tbl.Name)
		}
	}
	backend := &plugin.BackendOptions{TableName: "cq_state_s3", Connection: "@@plugins.postgresql.connection"}
	syncIDs := func() map[string][]int64 {
		t.Helper()
		msgs := runSyncOptions(t, c, plugin.SyncOptions{Tables: []string{"*"}, BackendOptions: backend})
		_, rows := collect(t, msgs)
		out := map[string][]int64{}
		for n, r := range rows {
			out[n] = r.ids
		}
		return out
	}

	if got := fmt.Sprint(syncIDs()); got != "map[sales:[1 2 3 4] users:[100]]" {
		t.Fatalf("first sync = %s", got)
	}
	if got := fmt.Sprint(syncIDs()); got != "map[]" {
		t.Fatalf("second sync with nothing new = %s", got)
	}

	put("data/sales/c.parquet", parquetFile(t, userSchema, 5, 1, 1024))
	if got := fmt.Sprint(syncIDs()); got != "map[sales:[5]]" {
		t.Fatalf("sync after one new object = %s", got)
	}

	// d fails transiently; e is newer and is read, but the cursor must stay
	// before d so that d is not lost.
	put("data/sales/d.parquet", parquetFile(t, userSchema, 6, 1, 1024))
	put("data/sales/e.parquet", parquetFile(t, userSchema, 7, 1, 1024))
	api.setFailing("data/sales/d.parquet")
	if got := fmt.Sprint(syncIDs()); got != "map[sales:[7]]" {
		t.Fatalf("sync with a transient failure = %s", got)
	}
	api.setFailing()
	if got := fmt.Sprint(syncIDs()); got != "map[sales:[6 7]]" {
		t.Fatalf("sync after recovery = %s (want d re-read, e again: at least once)", got)
	}
	if got := fmt.Sprint(syncIDs()); got != "map[]" {
		t.Fatalf("final sync = %s", got)
	}
	// A malformed object is permanent: skipped once, never retried.
	put("data/sales/f.parquet", []byte("garbage"))
	if got := fmt.Sprint(syncIDs()); got != "map[]" {
		t.Fatalf("sync with a malformed object = %s", got)
	}
	put("data/sales/g.parquet", parquetFile(t, userSchema, 8, 1, 1024))
	if got := fmt.Sprint(syncIDs()); got != "map[sales:[8]]" {
		t.Fatalf("sync past a malformed object = %s", got)
	}
	// An incomplete object (footer intact, data short) is not passed over:
	// the cursor stays before it, so h and every newer object are read again
	// until h is whole (here: rewritten, with a new modification time).
	put("data/sales/h.parquet", damaged(t, parquetFile(t, userSchema, 9, 3, 1024), 0.7, nil))
	put("data/sales/i.parquet", parquetFile(t, userSchema, 12, 1, 1024))
	if got := fmt.Sprint(syncIDs()); got != "map[sales:[12]]" {
		t.Fatalf("sync with an incomplete object = %s", got)
	}
	if got := fmt.Sprint(syncIDs()); got != "map[sales:[12]]" {
		t.Fatalf("sync after an incomplete object = %s (want i again: the cursor must not pass h)", got)
	}
	put("data/sales/h.parquet", parquetFile(t, userSchema, 9, 3, 1024))
	if got := fmt.Sprint(syncIDs()); got != "map[sales:[9 10 11 12]]" {
		t.Fatalf("sync after h was completed = %s", got)
	}
	if got := fmt.Sprint(syncIDs()); got != "map[]" {
		t.Fatalf("sync after everything was read = %s", got)
	}
	if connects != 12 || st.closed != 12 {
		t.Fatalf("state connects %d, closes %d; want 12 each", connects, st.closed)
	}
	if v := st.flushed["s3://lake/data/#sales"]; !strings.Contains(v, "h.parquet") {
		t.Fatalf("sales cursor = %q", v)
	}
}

func TestIncrementalWithoutBackendReadsEverything(t *testing.T) {
	f := newFixture(t, map[string][]byte{"data/users.parquet": parquetFile(t, userSchema, 1, 2, 1024)})
	logs := &syncWriter{}
	factory := func(context.Context, *plugin.BackendOptions) (state.Client, error) {
		t.Fatal("no backend_options: the state backend must not be contacted")
		return nil, nil
	}
	c, err := client.New(context.Background(), zerolog.New(logs), mustSpecJSON(t, incrementalSpecJSON(f.url)), f.api, false, client.WithStateFactory(factory))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		_, rows := collect(t, runSync(t, c, []string{"*"}))
		if len(rows["users"].ids) != 2 {
			t.Fatalf("sync %d: users rows %v", i, rows["users"])
		}
	}
	if !strings.Contains(logs.String(), "no backend_options") {
		t.Fatalf("missing warning:\n%s", logs.String())
	}
}

func TestIncrementalStateBackendFailureFailsSync(t *testing.T) {
	f := newFixture(t, map[string][]byte{"data/users.parquet": parquetFile(t, userSchema, 1, 2, 1024)})
	factory := func(context.Context, *plugin.BackendOptions) (state.Client, error) {
		return nil, errors.New("connection refused")
	}
	c, err := client.New(context.Background(), zerolog.Nop(), mustSpecJSON(t, incrementalSpecJSON(f.url)), f.api, false, client.WithStateFactory(factory))
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan message.SyncMessage, 16)
	err = c.Sync(context.Background(), plugin.SyncOptions{Tables: []string{"*"}, BackendOptions: &plugin.BackendOptions{TableName: "st", Connection: "x"}}, ch)
	if err == nil || !strings.Contains(err.Error(), `connect to state backend "st": connection refused`) {
		t.Fatalf("err = %v", err)
	}
}
