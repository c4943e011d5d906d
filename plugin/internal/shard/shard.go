// Package shard splits a sync across processes: `cloudquery sync --shard N/M`
// runs M syncs, and each object belongs to exactly one of them.
//
// The owner of an object is a function of its table and key only, never of
// listing order, page size, concurrency or which objects exist, so M shards
// started at different times on different machines agree, and the union of
// shards 1..M is exactly one unsharded sync. Shards balance object counts,
// not bytes.
package shard

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/cloudquery/plugin-sdk/v4/plugin"
)

// MaxTotal bounds M. Far more shards than objects only start idle processes;
// the bound also bounds the state a shard reads when M changes (cursor.Resolve).
const MaxTotal = 4096

// Shard is part Num (1-based, as the CLI's `--shard N/M` counts) of Total.
type Shard struct {
	Num, Total int
}

// All is the unsharded sync: one shard owning everything.
var All = Shard{Num: 1, Total: 1}

// FromOptions validates the shard the CLI passed; nil means unsharded.
func FromOptions(s *plugin.Shard) (Shard, error) {
	if s == nil {
		return All, nil
	}
	num, total := int(s.Num), int(s.Total)
	switch {
	case total < 1 || total > MaxTotal:
		return Shard{}, fmt.Errorf("invalid shard %d/%d: the shard count M of --shard N/M must be between 1 and %d", num, total, MaxTotal)
	case num < 1 || num > total:
		return Shard{}, fmt.Errorf("invalid shard %d/%d: N of --shard N/M counts from 1 and must be at most M (%d)", num, total, total)
	}
	return Shard{Num: num, Total: total}, nil
}

// String is the CLI's notation, e.g. "2/3".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Num, s.Total) }

// Owner is the shard (1-based) that owns key of table when a sync is split
// total ways: SHA-256 of table, NUL, key, taken modulo total. SHA-256 rather
// than a faster hash: stable across Go versions and platforms by definition,
// and evenly spread for keys that differ in one character.
func Owner(total int, table, key string) int {
	if total <= 1 {
		return 1
	}
	h := sha256.New()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write([]byte(key))
	sum := h.Sum(nil)
	return int(binary.BigEndian.Uint64(sum[:8])%uint64(total)) + 1
}

// Owns reports whether s syncs key of table.
func (s Shard) Owns(table, key string) bool {
	return s.Total <= 1 || Owner(s.Total, table, key) == s.Num
}
