package shard

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cloudquery/plugin-sdk/v4/plugin"
)

func TestFromOptions(t *testing.T) {
	for _, tc := range []struct {
		in      *plugin.Shard
		want    Shard
		wantErr string
	}{
		{in: nil, want: All},
		{in: &plugin.Shard{Num: 1, Total: 1}, want: All},
		{in: &plugin.Shard{Num: 2, Total: 3}, want: Shard{2, 3}},
		{in: &plugin.Shard{Num: 3, Total: 3}, want: Shard{3, 3}},
		{in: &plugin.Shard{Num: MaxTotal, Total: MaxTotal}, want: Shard{MaxTotal, MaxTotal}},
		{in: &plugin.Shard{Num: 0, Total: 3}, wantErr: "invalid shard 0/3: N of --shard N/M counts from 1"},
		{in: &plugin.Shard{Num: 4, Total: 3}, wantErr: "invalid shard 4/3: N of --shard N/M counts from 1 and must be at most M (3)"},
		{in: &plugin.Shard{Num: -1, Total: 3}, wantErr: "invalid shard -1/3"},
		{in: &plugin.Shard{Num: 1, Total: 0}, wantErr: "invalid shard 1/0: the shard count M of --shard N/M must be between 1 and 4096"},
		{in: &plugin.Shard{Num: 1, Total: -2}, wantErr: "invalid shard 1/-2"},
		{in: &plugin.Shard{Num: 1, Total: MaxTotal + 1}, wantErr: "invalid shard 1/4097"},
	} {
		got, err := FromOptions(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%v = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// The owner function is part of the stored state's meaning (cursors are per
// shard): it must never change. Expected values computed independently, by
// Python's hashlib: int.from_bytes(sha256(table+b"\0"+key)[:8], "big") % M + 1.
func TestOwnerIsStable(t *testing.T) {
	for _, tc := range []struct {
		table, key  string
		total, want int
	}{
		{"users", "exports/users/a.parquet", 3, 3},
		{"users", "exports/users/b.parquet", 3, 1},
		{"sales", "exports/sales/eu/x.parquet", 7, 6},
		{"events", "exports/events.parquet", 2, 1},
		{"t", "", 5, 3},
		{"users", "exports/users/a.parquet", 4096, 1605},
		{"users", "exports/users/a.parquet", 1, 1},
	} {
		if got := Owner(tc.total, tc.table, tc.key); got != tc.want {
			t.Errorf("Owner(%d, %q, %q) = %d, want %d", tc.total, tc.table, tc.key, got, tc.want)
		}
	}
}

// Every object belongs to exactly one shard, for every M; and the split is
// even enough that M shards share the work.
func TestEveryObjectHasExactlyOneShard(t *testing.T) {
	const keys = 20000
	for total := 1; total <= 9; total++ {
		counts := make([]int, total+1)
		for i := range keys {
			key := fmt.Sprintf("exports/t/part-%05d.parquet", i)
			owners := 0
			for num := 1; num <= total; num++ {
				if (Shard{Num: num, Total: total}).Owns("t", key) {
					owners++
					counts[num]++
				}
			}
			if owners != 1 {
				t.Fatalf("M=%d: %s owned by %d shards", total, key, owners)
			}
		}
		mean := keys / total
		for num := 1; num <= total; num++ {
			if d := counts[num] - mean; d*d > (mean/10)*(mean/10) {
				t.Errorf("M=%d: shard %d owns %d of %d keys (mean %d): more than 10%% off", total, num, counts[num], keys, mean)
			}
		}
	}
}

// The table is part of the owner: the same key path in two tables may land
// in different shards (table names come from keys, but a prefix change can
// map one key to another table).
func TestOwnerDependsOnTable(t *testing.T) {
	differ := 0
	for i := range 100 {
		key := fmt.Sprintf("k%d", i)
		if Owner(8, "a", key) != Owner(8, "b", key) {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("owner ignores the table")
	}
}
