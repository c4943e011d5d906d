package cursor

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/infobloxopen/cq-source-s3/internal/discovery"
	"github.com/infobloxopen/cq-source-s3/internal/shard"
)

// A table's incremental state when syncs are sharded (`--shard N/M`):
//
//   - each shard keeps its own cursor, over the objects it owns (shard.Owner);
//   - the shard count in use is a generation: {id, M}. The layout key lists the
//     generations newest first. A sync whose M differs from the newest starts a
//     new generation (id + 1), computed the same way by every shard of it;
//   - a shard without a cursor in its generation (its first sync after M
//     changed) decides object by object from the previous generations: the
//     object's owner there, if that owner has a cursor, says whether it was
//     handled. So changing M neither loses nor repeats objects;
//   - the unsharded sync is generation 0 and keeps the key plugins before
//     sharding used (Key), so existing state carries over and no layout is
//     written until M changes.
//
// Generations are kept until one is complete (every shard has a cursor): older
// ones can no longer matter. A shard's state is read when its sync starts and
// written when it ends: M must not change while shards of a sync still run.

// Generation is one shard count of a table's state.
type Generation struct {
	ID     int `json:"id"`
	Shards int `json:"shards"`
}

// unsharded is generation 0: state written without --shard (and before it existed).
var unsharded = Generation{ID: 0, Shards: 1}

// maxGenerations bounds the layout: each change of M that not every shard has
// completed a sync under adds one.
const maxGenerations = 16

type layout struct {
	Generations []Generation `json:"generations"`
}

// LayoutKey is the state-backend key of a table's generations.
func LayoutKey(bucket, prefix, table string) string {
	return Key(bucket, prefix, table) + "@shards"
}

// ShardKey is the state-backend key of shard num's cursor in generation g.
func ShardKey(bucket, prefix, table string, g Generation, num int) string {
	if g.ID == 0 {
		return Key(bucket, prefix, table)
	}
	return fmt.Sprintf("%s@gen=%d,shard=%d/%d", Key(bucket, prefix, table), g.ID, num, g.Shards)
}

// Getter reads a state-backend key; "" means absent.
type Getter func(key string) (string, error)

// Position is where one shard of a table stands at the start of a sync.
type Position struct {
	// Generation is the one this sync belongs to; Key stores its cursor.
	Generation Generation
	Key        string
	// Base is the shard's own cursor (zero when it has none yet).
	Base Cursor
	// prior decides objects from earlier generations' cursors; nil unless
	// this shard has no cursor of its own in a generation after another.
	prior func(discovery.Object) bool
	// Layout is the value to store under LayoutKey with the cursor; "" when
	// nothing needs storing (unsharded state only).
	Layout string
	// Notes are warnings for the sync log (unreadable cursors).
	Notes []string
}

// Migrating reports whether the shard starts from earlier generations' cursors.
func (p Position) Migrating() bool { return p.prior != nil }

// Select returns the objects (all owned by this shard) not handled yet, oldest
// first (then by key), the order Advance consumes them in.
func (p Position) Select(owned []discovery.Object) []discovery.Object {
	if p.prior == nil {
		return Select(p.Base, owned)
	}
	out := make([]discovery.Object, 0, len(owned))
	for _, o := range owned {
		if !p.prior(o) {
			out = append(out, o)
		}
	}
	byTime(out)
	return out
}

// Advance returns the cursor to store after a sync of selected (as Select
// returned it from owned). A migrating shard's cursor covers every object it
// owns, the ones earlier generations handled included.
func (p Position) Advance(owned, selected []discovery.Object, retry func(key string) bool) Cursor {
	if p.prior == nil {
		return Advance(p.Base, selected, retry)
	}
	all := slices.Clone(owned)
	byTime(all)
	return Advance(Cursor{}, all, retry)
}

// Resolve reads the state of shard sh of table.
func Resolve(get Getter, bucket, prefix, table string, sh shard.Shard) (Position, error) {
	chain, err := readLayout(get, bucket, prefix, table)
	if err != nil {
		return Position{}, err
	}
	cur, prev := chain[0], chain[1:]
	if cur.Shards != sh.Total {
		cur, prev = Generation{ID: chain[0].ID + 1, Shards: sh.Total}, chain
	}
	if len(prev)+1 > maxGenerations {
		return Position{}, fmt.Errorf("incremental state of table %s: the shard count changed %d times without every shard completing a sync in between; "+
			"run every shard of --shard N/%d once (or point backend_options at a new table_name to read every object again)",
			table, len(prev), chain[0].Shards)
	}
	p := Position{Generation: cur, Key: ShardKey(bucket, prefix, table, cur, sh.Num)}

	// This generation's cursors: this shard's, and whether all others exist.
	own, othersPresent := "", true
	for num := 1; num <= cur.Shards; num++ {
		raw, err := get(ShardKey(bucket, prefix, table, cur, num))
		if err != nil {
			return Position{}, fmt.Errorf("incremental sync: read cursor of shard %d/%d of table %s: %w", num, cur.Shards, table, err)
		}
		if num == sh.Num {
			own = raw
		} else if raw == "" {
			othersPresent = false
		}
	}
	if own != "" {
		if p.Base, err = Parse(own); err != nil {
			// Unreadable position: re-reading is safer than skipping data.
			p.Notes = append(p.Notes, fmt.Sprintf("ignoring unreadable cursor (%v); reading every object of this shard", err))
			p.Base = Cursor{}
		}
	}

	// Earlier generations, newest first, up to the first complete one.
	var earlier []priorGeneration
	for _, g := range prev {
		pg, full, notes, err := readGeneration(get, bucket, prefix, table, g)
		if err != nil {
			return Position{}, err
		}
		p.Notes = append(p.Notes, notes...)
		earlier = append(earlier, pg)
		if full {
			break
		}
	}
	if own == "" && len(earlier) > 0 {
		p.prior = func(o discovery.Object) bool { return handledBefore(earlier, table, o) }
	}
	// Once this sync stores its cursor, a generation whose other shards all
	// have one is complete: nothing older can matter to any of them.
	kept := []Generation{cur}
	if !othersPresent {
		for _, pg := range earlier {
			kept = append(kept, pg.gen)
		}
	}
	if !(len(kept) == 1 && kept[0] == unsharded) {
		b, _ := json.Marshal(layout{Generations: kept}) // cannot fail: ints only
		p.Layout = string(b)
	}
	return p, nil
}

// priorGeneration holds an earlier generation's cursors by shard (1-based).
type priorGeneration struct {
	gen     Generation
	cursors map[int]Cursor
}

// handledBefore reports whether the earlier generations handled o: the
// newest one whose owner of o has a cursor decides.
func handledBefore(gens []priorGeneration, table string, o discovery.Object) bool {
	for _, g := range gens {
		if c, ok := g.cursors[shard.Owner(g.gen.Shards, table, o.Key)]; ok {
			return c.Handled(o)
		}
	}
	return false
}

func readGeneration(get Getter, bucket, prefix, table string, g Generation) (priorGeneration, bool, []string, error) {
	pg := priorGeneration{gen: g, cursors: map[int]Cursor{}}
	var notes []string
	full := true
	for num := 1; num <= g.Shards; num++ {
		raw, err := get(ShardKey(bucket, prefix, table, g, num))
		if err != nil {
			return pg, false, nil, fmt.Errorf("incremental sync: read cursor of shard %d/%d (generation %d) of table %s: %w", num, g.Shards, g.ID, table, err)
		}
		if raw == "" {
			full = false
			continue
		}
		c, err := Parse(raw)
		if err != nil {
			// Treated as absent: an older generation, or none, decides, which
			// handled no more than this one did (re-read, never skipped).
			notes = append(notes, fmt.Sprintf("ignoring unreadable cursor of shard %d/%d (generation %d): %v", num, g.Shards, g.ID, err))
			full = false
			continue
		}
		pg.cursors[num] = c
	}
	return pg, full, notes, nil
}

// readLayout returns the table's generations, newest first; without a layout
// key, the unsharded generation alone.
func readLayout(get Getter, bucket, prefix, table string) ([]Generation, error) {
	key := LayoutKey(bucket, prefix, table)
	raw, err := get(key)
	if err != nil {
		return nil, fmt.Errorf("incremental sync: read shard layout %q: %w", key, err)
	}
	if raw == "" {
		return []Generation{unsharded}, nil
	}
	var l layout
	if err := json.Unmarshal([]byte(raw), &l); err == nil {
		err = validLayout(l.Generations)
		if err == nil {
			return l.Generations, nil
		}
	}
	// Guessing here could skip objects: refuse, and say how to start over.
	return nil, fmt.Errorf("incremental state key %q holds %q, which is not a shard layout this plugin wrote; "+
		"point backend_options at a new table_name to start over (every object is read again)", key, raw)
}

func validLayout(gens []Generation) error {
	if len(gens) == 0 || len(gens) > maxGenerations {
		return fmt.Errorf("%d generations", len(gens))
	}
	for i, g := range gens {
		switch {
		case g.Shards < 1 || g.Shards > shard.MaxTotal:
			return fmt.Errorf("generation %d: %d shards", g.ID, g.Shards)
		case g.ID < 0 || (g.ID == 0 && g.Shards != 1):
			return fmt.Errorf("generation %d of %d shards", g.ID, g.Shards)
		case i > 0 && g.ID >= gens[i-1].ID:
			return fmt.Errorf("generation %d after %d", g.ID, gens[i-1].ID)
		}
	}
	return nil
}

// byTime orders objects oldest first, then by key.
func byTime(objs []discovery.Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		if !objs[i].LastModified.Equal(objs[j].LastModified) {
			return objs[i].LastModified.Before(objs[j].LastModified)
		}
		return objs[i].Key < objs[j].Key
	})
}
