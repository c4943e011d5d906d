// Command compare checks what the jsonl destination received against the dataset that was put
// into the bucket: exactly the expected tables, each with the expected columns and types (plus
// the CLI's _cq_sync_time and _cq_source_name), and exactly the expected rows as a multiset
// (order-insensitive). With -log it also requires the plugin's "malformed parquet" warning for
// every corrupt object. Prints a summary; exits 1 on any mismatch.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/canon"
	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/dataset"
)

// Columns the CloudQuery CLI adds to every row on the way to the destination.
const (
	colSyncTime   = "_cq_sync_time"
	colSourceName = "_cq_source_name"
)

func main() {
	dir := flag.String("dir", "", "the jsonl destination's directory (required)")
	source := flag.String("source-name", "", "the source's name in the CloudQuery config (required)")
	logFiles := flag.String("log", "", "CloudQuery CLI log files (comma-separated) to search for the corrupt objects' warnings")
	shards := flag.Int("shards", 0, "the rows came from `sync --shard N/M` with this M: each row's source name is <source-name>_<N>_<M>")
	added := flag.Bool("added", false, "expect dataset.Added's rows too (after an incremental round)")
	flag.Parse()
	if *dir == "" || *source == "" || *shards < 0 {
		fmt.Fprintln(os.Stderr, "compare: -dir and -source-name are required; -shards is M >= 1 when given")
		os.Exit(2)
	}
	files := dataset.Files()
	if *added {
		files = append(files, dataset.Added()...)
	}
	var logs []string
	if *logFiles != "" {
		logs = strings.Split(*logFiles, ",")
	}
	if err := run(*dir, sourceNames(*source, *shards), files, logs); err != nil {
		fmt.Fprintf(os.Stderr, "compare: FAIL\n%v\n", err)
		os.Exit(1)
	}
}

type outTable struct {
	fields []canon.Field
	rows   []string
}

// sourceNames is the set of _cq_source_name values rows may carry: the CLI names a sharded
// sync's source <name>_<N>_<M>.
func sourceNames(source string, shards int) map[string]bool {
	if shards == 0 {
		return map[string]bool{source: true}
	}
	names := map[string]bool{}
	for n := 1; n <= shards; n++ {
		names[fmt.Sprintf("%s_%d_%d", source, n, shards)] = true
	}
	return names
}

func run(dir string, sources map[string]bool, files []dataset.File, logFiles []string) error {
	want, err := dataset.ExpectedOf(files)
	if err != nil {
		return err
	}
	got, err := readDir(dir, sources)
	if err != nil {
		return err
	}
	var problems []string
	names := map[string]bool{}
	for n := range want {
		names[n] = true
	}
	for n := range got {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	rowsIn, rowsOut := 0, 0
	for _, n := range sorted {
		w, g := want[n], got[n]
		switch {
		case w == nil:
			problems = append(problems, fmt.Sprintf("table %s: not expected, but received %d rows", n, len(g.rows)))
			rowsOut += len(g.rows)
			continue
		case g == nil:
			problems = append(problems, fmt.Sprintf("table %s: expected %d rows, table never reached the destination", n, len(w.Rows)))
			rowsIn += len(w.Rows)
			continue
		}
		rowsIn += len(w.Rows)
		rowsOut += len(g.rows)
		if fmt.Sprint(w.Fields) != fmt.Sprint(g.fields) {
			problems = append(problems, fmt.Sprintf("table %s: columns\n  want %v\n  got  %v", n, w.Fields, g.fields))
		}
		missing, extra := diff(w.Rows, g.rows)
		for _, r := range missing {
			problems = append(problems, fmt.Sprintf("table %s: missing row %s", n, r))
		}
		for _, r := range extra {
			problems = append(problems, fmt.Sprintf("table %s: unexpected row %s", n, r))
		}
		fmt.Printf("compare: table %-10s %3d rows in, %3d rows out, %d columns\n", n, len(w.Rows), len(g.rows), len(w.Fields))
	}
	if len(logFiles) > 0 {
		problems = append(problems, checkSkips(logFiles)...)
	}
	wantNames := make([]string, 0, len(want))
	for n := range want {
		wantNames = append(wantNames, n)
	}
	sort.Strings(wantNames)
	fmt.Printf("compare: %d rows in, %d rows out, tables %s; corrupt objects skipped: %s\n",
		rowsIn, rowsOut, strings.Join(wantNames, ", "), strings.Join(dataset.CorruptKeys(), ", "))
	if len(problems) > 0 {
		if len(problems) > 40 {
			problems = append(problems[:40], fmt.Sprintf("... and %d more", len(problems)-40))
		}
		return errors.New(strings.Join(problems, "\n"))
	}
	fmt.Println("compare: OK (rows out equal rows in)")
	return nil
}

// readDir loads <table>.schema.json and <table>.jsonl files, checking and then dropping the
// CLI's own columns so what remains is comparable with the Parquet contents.
func readDir(dir string, sources map[string]bool) (map[string]*outTable, error) {
	out := map[string]*outTable{}
	get := func(n string) *outTable {
		if out[n] == nil {
			out[n] = &outTable{}
		}
		return out[n]
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".schema.json"):
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			var fields []canon.Field
			if err := json.Unmarshal(b, &fields); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			t := get(strings.TrimSuffix(e.Name(), ".schema.json"))
			for _, f := range fields {
				switch f.Name {
				case colSyncTime, colSourceName:
				default:
					t.fields = append(t.fields, f)
				}
			}
			for _, c := range []string{colSyncTime, colSourceName} {
				if !slices.ContainsFunc(fields, func(f canon.Field) bool { return f.Name == c }) {
					return nil, fmt.Errorf("%s: no %s column: did the rows go through the CloudQuery CLI?", p, c)
				}
			}
		case strings.HasSuffix(e.Name(), ".jsonl"):
			rows, err := readRows(p, sources)
			if err != nil {
				return nil, err
			}
			get(strings.TrimSuffix(e.Name(), ".jsonl")).rows = rows
		default:
			return nil, fmt.Errorf("%s: unexpected file in the destination directory", p)
		}
	}
	return out, nil
}

func readRows(p string, sources map[string]bool) ([]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var row map[string]*string
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", p, line, err)
		}
		if v := row[colSourceName]; v == nil || !sources[*v] {
			return nil, fmt.Errorf("%s:%d: %s = %v, want one of %v", p, line, colSourceName, deref(v), slices.Sorted(maps.Keys(sources)))
		}
		if row[colSyncTime] == nil {
			return nil, fmt.Errorf("%s:%d: %s is null", p, line, colSyncTime)
		}
		delete(row, colSourceName)
		delete(row, colSyncTime)
		b, err := json.Marshal(row) // same canonical form as canon.Rows: sorted keys
		if err != nil {
			return nil, err
		}
		rows = append(rows, string(b))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	sort.Strings(rows)
	return rows, nil
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// diff returns the rows of want not in got and of got not in want, counting duplicates.
func diff(want, got []string) (missing, extra []string) {
	count := map[string]int{}
	for _, r := range want {
		count[r]++
	}
	for _, r := range got {
		count[r]--
	}
	for _, r := range want {
		if count[r] > 0 {
			missing = append(missing, r)
			count[r]--
		}
	}
	for _, r := range got {
		if count[r] < 0 {
			extra = append(extra, r)
			count[r]++
		}
	}
	return missing, extra
}

// checkSkips requires, for each corrupt object, a line in one of the logs (one per shard) with
// the plugin's skip warning that names the key and classifies it as malformed Parquet.
func checkSkips(logFiles []string) []string {
	var all []byte
	for _, logFile := range logFiles {
		b, err := os.ReadFile(logFile)
		if errors.Is(err, fs.ErrNotExist) {
			return []string{fmt.Sprintf("log %s does not exist", logFile)}
		} else if err != nil {
			return []string{err.Error()}
		}
		all = append(all, b...)
	}
	b, logFile := all, strings.Join(logFiles, ", ")
	var problems []string
	for _, key := range dataset.CorruptKeys() {
		found := false
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "skipping object") && strings.Contains(l, key) && strings.Contains(l, "malformed parquet") {
				found = true
				break
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("log %s: no \"skipping object\" warning with \"malformed parquet\" for %s", logFile, key))
		}
	}
	return problems
}
