package cursor

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/infobloxopen/cq-source-s3/internal/discovery"
	"github.com/infobloxopen/cq-source-s3/internal/shard"
)

const (
	bucket = "lake"
	prefix = "exports"
	table  = "t"
)

// kv is a state backend: a shard reads a snapshot taken when its sync starts
// and writes when it ends, like the CloudQuery state client.
type kv map[string]string

func (s kv) get(key string) (string, error) { return s[key], nil }

func (s kv) snapshot() kv {
	out := kv{}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// runShard is one shard's sync against a snapshot: which objects it reads,
// and the writes it makes at the end (none if Resolve refused).
func runShard(t *testing.T, snap kv, objs []discovery.Object, sh shard.Shard, fail func(string) bool) (read []discovery.Object, writes kv, err error) {
	t.Helper()
	pos, err := Resolve(snap.get, bucket, prefix, table, sh)
	if err != nil {
		return nil, nil, err
	}
	var owned []discovery.Object
	for _, o := range objs {
		if sh.Owns(table, o.Key) {
			owned = append(owned, o)
		}
	}
	selected := pos.Select(owned)
	next := pos.Advance(owned, selected, fail)
	writes = kv{pos.Key: next.String()}
	if pos.Layout != "" {
		writes[LayoutKey(bucket, prefix, table)] = pos.Layout
	}
	return selected, writes, nil
}

// The model: rounds of syncs over a growing bucket (objects arriving with
// coarse, shared timestamps), each round a random subset of the shards of a
// shard count that changes from time to time, run in parallel (one snapshot).
// With no failures every object must be read exactly once, however M moves
// and whichever shards skip rounds; with transient failures, at least once.
func TestShardCountChangesLoseNothingAndRepeatNothing(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { simulate(t, seed, seed%3 == 0) })
	}
}

func simulate(t *testing.T, seed uint64, failures bool) {
	rng := rand.New(rand.NewPCG(seed, 7))
	state := kv{}
	var objs []discovery.Object
	reads := map[string]int{}
	total := 1 + rng.IntN(4)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	round := func(total int, run func(num int) bool, fail func(string) bool) {
		t.Helper()
		snap := state.snapshot()
		var all []kv
		for num := 1; num <= total; num++ {
			if !run(num) {
				continue
			}
			read, writes, err := runShard(t, snap, objs, shard.Shard{Num: num, Total: total}, fail)
			if err != nil {
				if !strings.Contains(err.Error(), "run every shard of --shard N/") {
					t.Fatalf("shard %d/%d: %v", num, total, err)
				}
				continue
			}
			for _, o := range read {
				if !fail(o.Key) {
					reads[o.Key]++
				}
			}
			all = append(all, writes)
		}
		for _, w := range all {
			for k, v := range w {
				state[k] = v
			}
		}
	}
	for r := range 40 {
		for range rng.IntN(4) {
			// Several objects share a timestamp, across rounds too.
			objs = append(objs, discovery.Object{Key: fmt.Sprintf("exports/t/%03d.parquet", len(objs)), LastModified: base.Add(time.Duration(r/2) * time.Second)})
		}
		if rng.IntN(4) == 0 {
			total = 1 + rng.IntN(5)
		}
		failing := map[string]bool{}
		if failures && len(objs) > 0 && rng.IntN(3) == 0 {
			failing[objs[rng.IntN(len(objs))].Key] = true
		}
		round(total, func(int) bool { return rng.IntN(5) != 0 }, func(k string) bool { return failing[k] })
		if len(state[LayoutKey(bucket, prefix, table)]) > 0 && strings.Count(state[LayoutKey(bucket, prefix, table)], `"id"`) > maxGenerations {
			t.Fatalf("layout grew past %d generations: %s", maxGenerations, state[LayoutKey(bucket, prefix, table)])
		}
	}
	// Then every shard of the newest shard count, twice, without failures:
	// everything is read and the second round reads nothing.
	if raw := state[LayoutKey(bucket, prefix, table)]; raw != "" {
		chain, err := readLayout(state.get, bucket, prefix, table)
		if err != nil {
			t.Fatal(err)
		}
		total = chain[0].Shards
	} else {
		total = 1
	}
	never := func(string) bool { return false }
	round(total, func(int) bool { return true }, never)
	before := fmt.Sprint(reads)
	round(total, func(int) bool { return true }, never)
	if after := fmt.Sprint(reads); after != before {
		t.Fatalf("a second complete round read objects again")
	}
	for _, o := range objs {
		switch n := reads[o.Key]; {
		case n == 0:
			t.Errorf("%s was never read", o.Key)
		case n > 1 && !failures:
			t.Errorf("%s was read %d times without any failure", o.Key, n)
		}
	}
	if raw := state[LayoutKey(bucket, prefix, table)]; raw != "" && strings.Count(raw, `"id"`) != 1 {
		t.Errorf("after every shard ran, the layout still lists older generations: %s", raw)
	}
}

func TestResolveRefusesStateItDidNotWrite(t *testing.T) {
	layoutKey := LayoutKey(bucket, prefix, table)
	for _, raw := range []string{
		`not json`,
		`{"generations":[]}`,
		`{"generations":[{"id":0,"shards":3}]}`,
		`{"generations":[{"id":2,"shards":3},{"id":2,"shards":1}]}`,
		`{"generations":[{"id":1,"shards":0}]}`,
		`{"generations":[{"id":1,"shards":5000}]}`,
	} {
		_, err := Resolve(kv{layoutKey: raw}.get, bucket, prefix, table, shard.Shard{Num: 1, Total: 2})
		if err == nil || !strings.Contains(err.Error(), "not a shard layout this plugin wrote") ||
			!strings.Contains(err.Error(), "new table_name") || !strings.Contains(err.Error(), layoutKey) {
			t.Errorf("%s: err = %v", raw, err)
		}
	}
}

// Unsharded state written before sharding existed carries over, and an
// unsharded sync writes no layout.
func TestUnshardedStateKeepsItsKey(t *testing.T) {
	old := Cursor{LastModified: time.Unix(100, 0).UTC(), Keys: []string{"exports/t/a.parquet"}}
	st := kv{Key(bucket, prefix, table): old.String()}
	pos, err := Resolve(st.get, bucket, prefix, table, shard.All)
	if err != nil {
		t.Fatal(err)
	}
	if pos.Key != "s3://lake/exports#t" || pos.Layout != "" || pos.Migrating() || pos.Base.String() != old.String() {
		t.Fatalf("position = %+v", pos)
	}
	// Going to 2 shards: generation 1, deciding from the unsharded cursor.
	pos, err = Resolve(st.get, bucket, prefix, table, shard.Shard{Num: 2, Total: 2})
	if err != nil {
		t.Fatal(err)
	}
	if pos.Key != "s3://lake/exports#t@gen=1,shard=2/2" || !pos.Migrating() ||
		pos.Layout != `{"generations":[{"id":1,"shards":2},{"id":0,"shards":1}]}` {
		t.Fatalf("position = %+v", pos)
	}
	objs := []discovery.Object{
		{Key: "exports/t/a.parquet", LastModified: time.Unix(100, 0).UTC()},
		{Key: "exports/t/b.parquet", LastModified: time.Unix(100, 0).UTC()},
		{Key: "exports/t/c.parquet", LastModified: time.Unix(50, 0).UTC()},
	}
	if got := keys(pos.Select(objs)); got != "exports/t/b.parquet" {
		t.Fatalf("selected %s", got)
	}
}

func TestTooManyUnfinishedChangesAreRefused(t *testing.T) {
	var gens []string
	for id := maxGenerations; id >= 1; id-- {
		gens = append(gens, fmt.Sprintf(`{"id":%d,"shards":%d}`, id, 2+id%2))
	}
	st := kv{LayoutKey(bucket, prefix, table): `{"generations":[` + strings.Join(gens, ",") + `]}`}
	// The newest generation's shard count is still accepted ...
	if _, err := Resolve(st.get, bucket, prefix, table, shard.Shard{Num: 1, Total: 2}); err != nil {
		t.Fatal(err)
	}
	// ... another change is not, and the error says what to run.
	_, err := Resolve(st.get, bucket, prefix, table, shard.Shard{Num: 1, Total: 5})
	if err == nil || !strings.Contains(err.Error(), "run every shard of --shard N/2 once") {
		t.Fatalf("err = %v", err)
	}
}

func keys(objs []discovery.Object) string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return strings.Join(out, " ")
}
