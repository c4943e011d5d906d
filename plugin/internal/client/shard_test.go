package client_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/state"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/rs/zerolog"

	"github.com/infobloxopen/cq-source-s3/internal/client"
)

// shardedLake is lakeObjects (bad objects, drift, several tables) plus a
// table of many objects with disjoint id ranges, so shards have work to split.
func shardedLake(t *testing.T) map[string][]byte {
	objs := lakeObjects(t)
	for i := range 24 {
		objs[fmt.Sprintf("data/parts/p-%02d.parquet", i)] = parquetFile(t, userSchema, 1000*(i+1), 3, 1024)
	}
	return objs
}

func newClient(t *testing.T, f *fixture, js string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(context.Background(), zerolog.Nop(), mustSpecJSON(t, js), f.api, false, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// idsByTable flattens collect's rows.
func idsByTable(rows map[string]*tableRows) map[string][]int64 {
	out := map[string][]int64{}
	for n, r := range rows {
		out[n] = r.ids
	}
	return out
}

func TestShardsTogetherAreOneSync(t *testing.T) {
	f := newFixture(t, shardedLake(t))
	c := newClient(t, f, fmt.Sprintf(`{"bucket":%q,"region":"us-east-1","endpoint":%q,"path_prefix":"data","access_key_id":"k","secret_access_key":"s","rows_per_record":2,"concurrency":3}`, bucket, f.url))
	wantMigrated, rows := collect(t, runSync(t, c, []string{"*"}))
	want := idsByTable(rows)
	for total := 1; total <= 5; total++ {
		union := map[string][]int64{}
		busy := 0
		for num := 1; num <= total; num++ {
			msgs := runSyncOptions(t, c, plugin.SyncOptions{Tables: []string{"*"}, Shard: &plugin.Shard{Num: int32(num), Total: int32(total)}})
			migrated, rows := collect(t, msgs)
			// Every shard announces the same tables, with the same schemas.
			if !slices.Equal(migrated, wantMigrated) {
				t.Fatalf("shard %d/%d migrated %v, unsharded %v", num, total, migrated, wantMigrated)
			}
			if len(rows) > 0 {
				busy++
			}
			for n, ids := range idsByTable(rows) {
				union[n] = append(union[n], ids...)
			}
		}
		for n := range union {
			slices.Sort(union[n])
		}
		if fmt.Sprint(union) != fmt.Sprint(want) {
			t.Fatalf("M=%d: union of shards\n%v\nunsharded\n%v", total, union, want)
		}
		if total > 1 && busy < 2 {
			t.Fatalf("M=%d: only %d shard(s) read anything", total, busy)
		}
	}
}

func TestEmptyShardSucceeds(t *testing.T) {
	f := newFixture(t, map[string][]byte{"data/users.parquet": parquetFile(t, userSchema, 1, 3, 1024)})
	c := newClient(t, f, fmt.Sprintf(`{"bucket":%q,"region":"us-east-1","endpoint":%q,"path_prefix":"data","access_key_id":"k","secret_access_key":"s"}`, bucket, f.url))
	rowsSeen := 0
	for num := int32(1); num <= 4; num++ {
		migrated, rows := collect(t, runSyncOptions(t, c, plugin.SyncOptions{Tables: []string{"*"}, Shard: &plugin.Shard{Num: num, Total: 4}}))
		if fmt.Sprint(migrated) != "[users]" {
			t.Fatalf("shard %d/4 migrated %v", num, migrated)
		}
		if r := rows["users"]; r != nil {
			rowsSeen += len(r.ids)
		}
	}
	if rowsSeen != 3 {
		t.Fatalf("4 shards sent %d rows, want 3", rowsSeen)
	}
}

func TestInvalidShardFailsClearly(t *testing.T) {
	f := newFixture(t, map[string][]byte{"data/users.parquet": parquetFile(t, userSchema, 1, 3, 1024)})
	c := newClient(t, f, fmt.Sprintf(`{"bucket":%q,"region":"us-east-1","endpoint":%q,"path_prefix":"data","access_key_id":"k","secret_access_key":"s"}`, bucket, f.url))
	for _, sh := range []plugin.Shard{{Num: 0, Total: 3}, {Num: 4, Total: 3}, {Num: 1, Total: 0}} {
		ch := make(chan message.SyncMessage, 16)
		err := c.Sync(context.Background(), plugin.SyncOptions{Tables: []string{"*"}, Shard: &sh}, ch)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("invalid shard %d/%d", sh.Num, sh.Total)) {
			t.Errorf("shard %d/%d: err = %v", sh.Num, sh.Total, err)
		}
		if len(ch) != 0 {
			t.Errorf("shard %d/%d: %d messages sent before refusing", sh.Num, sh.Total, len(ch))
		}
	}
}

// Incremental shards share one state backend: each keeps its own cursor, a
// new object is read by exactly one shard, and changing M reads neither old
// objects again nor skips new ones.
func TestShardedIncrementalSync(t *testing.T) {
	clock := gofakes3.FixedTimeSource(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	objs := map[string][]byte{}
	for i := range 12 {
		objs[fmt.Sprintf("data/parts/p-%02d.parquet", i)] = parquetFile(t, userSchema, 100*(i+1), 2, 1024)
	}
	f := newFixture(t, objs, s3mem.WithTimeSource(clock))
	next := 5000
	put := func(n int) {
		for range n {
			clock.Advance(time.Second)
			data := parquetFile(t, userSchema, next, 1, 1024)
			key := fmt.Sprintf("data/parts/new-%d.parquet", next)
			if _, err := f.backend.PutObject(bucket, key, map[string]string{}, strings.NewReader(string(data)), int64(len(data)), nil); err != nil {
				t.Fatal(err)
			}
			next++
		}
	}
	st := newMemState()
	factory := func(context.Context, *plugin.BackendOptions) (state.Client, error) { return st, nil }
	c := newClient(t, f, incrementalSpecJSON(f.url), client.WithStateFactory(factory))
	backend := &plugin.BackendOptions{TableName: "cq_state_s3", Connection: "x"}
	round := func(total int32) []int64 {
		t.Helper()
		var ids []int64
		for num := int32(1); num <= total; num++ {
			_, rows := collect(t, runSyncOptions(t, c, plugin.SyncOptions{Tables: []string{"*"}, BackendOptions: backend, Shard: &plugin.Shard{Num: num, Total: total}}))
			if r := rows["parts"]; r != nil {
				ids = append(ids, r.ids...)
			}
		}
		slices.Sort(ids)
		return ids
	}
	var all []int64
	for i := range 12 {
		all = append(all, int64(100*(i+1)), int64(100*(i+1)+1))
	}
	slices.Sort(all)
	if got := round(3); fmt.Sprint(got) != fmt.Sprint(all) {
		t.Fatalf("first round of 3 shards read %v", got)
	}
	if got := round(3); len(got) != 0 {
		t.Fatalf("second round read %v", got)
	}
	put(4)
	if got := fmt.Sprint(round(3)); got != "[5000 5001 5002 5003]" {
		t.Fatalf("round after 4 new objects read %s", got)
	}
	// From 3 shards to 2, then to unsharded: nothing is read twice, nothing new is missed.
	put(2)
	if got := fmt.Sprint(round(2)); got != "[5004 5005]" {
		t.Fatalf("first round of 2 shards read %s", got)
	}
	put(1)
	if got := fmt.Sprint(round(1)); got != "[5006]" {
		t.Fatalf("unsharded round read %s", got)
	}
	if got := round(4); len(got) != 0 {
		t.Fatalf("first round of 4 shards read %v", got)
	}
	if v := st.flushed["s3://lake/data/#parts@shards"]; v != `{"generations":[{"id":4,"shards":4}]}` {
		t.Fatalf("layout after every shard of 4 ran: %s", v)
	}
}
