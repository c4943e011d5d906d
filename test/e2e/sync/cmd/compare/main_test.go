package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/canon"
	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/dataset"
)

const source = "s3-e2e-test"

// writeGood writes what a correct destination holds after the sync: every expected table with
// the CLI's two columns added to schema and rows.
func writeGood(t *testing.T, dir string) {
	t.Helper()
	want, err := dataset.Expected()
	if err != nil {
		t.Fatal(err)
	}
	for name, tb := range want {
		fields := append([]canon.Field{{Name: colSyncTime, Type: "timestamp[us, tz=UTC]"}, {Name: colSourceName, Type: "utf8"}}, tb.Fields...)
		b, _ := json.Marshal(fields)
		if err := os.WriteFile(filepath.Join(dir, name+".schema.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		var lines []string
		for i := len(tb.Rows) - 1; i >= 0; i-- { // reversed: order must not matter
			var row map[string]any
			if err := json.Unmarshal([]byte(tb.Rows[i]), &row); err != nil {
				t.Fatal(err)
			}
			row[colSourceName] = source
			row[colSyncTime] = "2026-01-01T00:00:00Z"
			b, _ := json.Marshal(row)
			lines = append(lines, string(b))
		}
		if err := os.WriteFile(filepath.Join(dir, name+".jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func edit(t *testing.T, p string, f func(string) string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(f(string(b))), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCompare(t *testing.T) {
	goodLog := `2026-01-01T00:00:00Z WRN skipping object error="malformed parquet: s3://lake/exports/users/part-2-truncated.parquet: x" key=exports/users/part-2-truncated.parquet table=users`
	cases := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		log    string
		want   string // substring of the error; "" = must pass
		shards int    // -shards
		added  bool   // -added
	}{
		{"a correct destination passes", func(*testing.T, string) {}, goodLog, "", 0, false},
		{"a changed value fails", func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "users.jsonl"), func(s string) string { return strings.Replace(s, `"ada"`, `"Ada"`, 1) })
		}, goodLog, "table users: missing row", 0, false},
		{"a null that became empty fails", func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "events.jsonl"), func(s string) string { return strings.Replace(s, `"kind":null`, `"kind":""`, 1) })
		}, goodLog, "table events: unexpected row", 0, false},
		{"a lost row fails", func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "sales_eu.jsonl"), func(s string) string { return s[strings.Index(s, "\n")+1:] })
		}, goodLog, "table sales_eu: missing row", 0, false},
		{"a duplicated row fails", func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "sales_eu.jsonl"), func(s string) string { return s + s[:strings.Index(s, "\n")+1] })
		}, goodLog, "table sales_eu: unexpected row", 0, false},
		{"a changed column type fails", func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "users.schema.json"), func(s string) string { return strings.Replace(s, `"float64"`, `"float32"`, 1) })
		}, goodLog, "table users: columns", 0, false},
		{"a missing table fails", func(t *testing.T, d string) {
			_ = os.Remove(filepath.Join(d, "events.jsonl"))
			_ = os.Remove(filepath.Join(d, "events.schema.json"))
		}, goodLog, "table events: expected 3 rows", 0, false},
		{"rows of an object outside the prefix fail", func(t *testing.T, d string) {
			_ = os.WriteFile(filepath.Join(d, "outside_prefix.jsonl"), []byte(`{"_cq_source_name":"`+source+`","_cq_sync_time":"x","seq":"7"}`+"\n"), 0o600)
		}, goodLog, "table outside_prefix: not expected", 0, false},
		{"rows from another source name fail", func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "users.jsonl"), func(s string) string { return strings.Replace(s, source, "other", 1) })
		}, goodLog, `want one of [s3-e2e-test]`, 0, false},
		{"rows of shards 1..M pass with -shards M", func(t *testing.T, d string) {
			for i, n := range []string{"users", "events", "sales_eu"} {
				edit(t, filepath.Join(d, n+".jsonl"), func(s string) string {
					return strings.ReplaceAll(s, `"`+source+`"`, fmt.Sprintf(`"%s_%d_3"`, source, i+1))
				})
			}
		}, goodLog, "", 3, false},
		{"a shard number outside 1..M fails", func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "users.jsonl"), func(s string) string { return strings.Replace(s, `"`+source+`"`, `"`+source+`_4_3"`, 1) })
		}, goodLog, "want one of", 3, false},
		{"an unsharded source name fails with -shards", func(*testing.T, string) {}, goodLog, "want one of", 3, false},
		{"without the added objects' rows, -added fails", func(*testing.T, string) {}, goodLog, "table users: missing row", 0, true},
		{"rows without the CLI's columns fail", func(t *testing.T, d string) {
			edit(t, filepath.Join(d, "users.schema.json"), func(s string) string { return strings.Replace(s, colSourceName, "x", 1) })
		}, goodLog, "no _cq_source_name column", 0, false},
		{"no skip warning for the corrupt object fails", func(*testing.T, string) {}, "2026 INF nothing", "no \"skipping object\" warning", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeGood(t, dir)
			c.mutate(t, dir)
			logFile := filepath.Join(t.TempDir(), "cloudquery.log")
			if err := os.WriteFile(logFile, []byte(c.log+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			files := dataset.Files()
			if c.added {
				files = append(files, dataset.Added()...)
			}
			err := run(dir, sourceNames(source, c.shards), files, []string{logFile})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("want pass, got %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("want failure containing %q, got pass", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("want failure containing %q, got %v", c.want, err)
			}
		})
	}
}
