// Package dataset defines the objects the end-to-end sync puts into the S3 emulator and the rows
// the destination must receive in return. Seeder and comparer both build from it, so the
// expectation is derived from the very values written, never typed in twice.
package dataset

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/canon"
)

// Bucket and PathPrefix are what the source spec points at.
const (
	Bucket     = "lake"
	PathPrefix = "exports"
)

// Kind says what the plugin must do with an object.
type Kind int

const (
	// Synced objects' rows must all arrive in their table.
	Synced Kind = iota
	// Corrupt objects must be skipped with a "malformed parquet" warning; no row of theirs may arrive.
	Corrupt
	// Ignored objects (outside the prefix, or not *.parquet) must not be read at all.
	Ignored
)

// Column is one column of a file: Values holds int64, string, bool, float64 or time.Time
// matching Type, or nil for null.
type Column struct {
	Name   string
	Type   arrow.DataType
	Values []any
}

// File is one object of the bucket.
type File struct {
	Key   string
	Table string // expected table name for Synced objects
	Kind  Kind
	Cols  []Column
	Raw   []byte // body for non-Parquet objects
}

var ts = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

func t(s string) time.Time {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return v
}

func users(ids []any, names []any, active []any, scores []any, created []any) []Column {
	return []Column{
		{"id", arrow.PrimitiveTypes.Int64, ids},
		{"name", arrow.BinaryTypes.String, names},
		{"active", arrow.FixedWidthTypes.Boolean, active},
		{"score", arrow.PrimitiveTypes.Float64, scores},
		{"created_at", ts, created},
	}
}

func sales(ids []any, skus []any, amounts []any, paid []any, at []any) []Column {
	return []Column{
		{"order_id", arrow.PrimitiveTypes.Int64, ids},
		{"sku", arrow.BinaryTypes.String, skus},
		{"amount", arrow.PrimitiveTypes.Float64, amounts},
		{"paid", arrow.FixedWidthTypes.Boolean, paid},
		{"ordered_at", ts, at},
	}
}

// Files is the whole bucket: two tables under subdirectories of the prefix (users, sales/eu,
// several files each), one table from a file directly under it (events), a corrupt object, and
// objects the plugin must ignore.
func Files() []File {
	return []File{
		{Key: PathPrefix + "/users/part-0.parquet", Table: "users", Kind: Synced, Cols: users(
			[]any{int64(1), int64(2), int64(3), int64(math.MaxInt64)},
			[]any{"ada", "", nil, "zoë ✓ \"quoted\""},
			[]any{true, false, nil, true},
			[]any{1.5, -0.25, 1e300, nil},
			[]any{t("2024-01-02T03:04:05.123456Z"), nil, t("1969-12-31T23:59:59.999999Z"), t("2038-01-19T03:14:08Z")},
		)},
		{Key: PathPrefix + "/users/part-1.parquet", Table: "users", Kind: Synced, Cols: users(
			[]any{int64(4), int64(math.MinInt64), nil},
			[]any{"grace", "linus", "null"},
			[]any{false, true, true},
			[]any{0.1, math.SmallestNonzeroFloat64, -7.0},
			[]any{t("2000-02-29T12:00:00Z"), t("2024-06-30T23:59:59.5Z"), t("1999-12-31T00:00:00.000001Z")},
		)},
		// A valid file cut in the middle, footer kept: magic bytes and footer length look right,
		// the footer itself is garbage. Its rows (ids 900–902) must not arrive.
		{Key: PathPrefix + "/users/part-2-truncated.parquet", Table: "users", Kind: Corrupt, Cols: users(
			[]any{int64(900), int64(901), int64(902)},
			[]any{"corrupt", "corrupt", "corrupt"},
			[]any{true, true, true},
			[]any{9.0, 9.0, 9.0},
			[]any{t("2024-01-01T00:00:00Z"), t("2024-01-01T00:00:00Z"), t("2024-01-01T00:00:00Z")},
		)},
		{Key: PathPrefix + "/users/_SUCCESS", Kind: Ignored, Raw: []byte{}},
		{Key: PathPrefix + "/sales/eu/2024-01.parquet", Table: "sales_eu", Kind: Synced, Cols: sales(
			[]any{int64(100), int64(101), int64(102), int64(103), int64(104)},
			[]any{"SKU-1", "SKU-2", "SKU-1", nil, "SKU-3"},
			[]any{19.99, 5.0, 19.99, 0.0, -3.5},
			[]any{true, true, false, nil, true},
			[]any{t("2024-01-01T00:00:00Z"), t("2024-01-15T10:30:00.25Z"), t("2024-01-31T23:59:59Z"), t("2024-01-10T08:00:00Z"), nil},
		)},
		{Key: PathPrefix + "/sales/eu/2024-02.parquet", Table: "sales_eu", Kind: Synced, Cols: sales(
			[]any{int64(200), int64(201)},
			[]any{"SKU-9", "SKU-1"},
			[]any{nil, 1234567.891},
			[]any{false, true},
			[]any{t("2024-02-29T00:00:00Z"), t("2024-02-01T12:34:56.789012Z")},
		)},
		{Key: PathPrefix + "/events.parquet", Table: "events", Kind: Synced, Cols: []Column{
			{"seq", arrow.PrimitiveTypes.Int64, []any{int64(1), int64(2), int64(3)}},
			{"kind", arrow.BinaryTypes.String, []any{"login", "logout", nil}},
			{"at", ts, []any{t("2024-03-01T09:00:00Z"), t("2024-03-01T17:00:00Z"), t("2024-03-02T00:00:00Z")}},
		}},
		{Key: "other/outside-prefix.parquet", Table: "outside_prefix", Kind: Ignored, Cols: []Column{
			{"seq", arrow.PrimitiveTypes.Int64, []any{int64(7)}},
		}},
	}
}

// Record builds the Arrow record of a Parquet file's columns.
func (f File) Record() (arrow.RecordBatch, error) {
	fields := make([]arrow.Field, len(f.Cols))
	arrays := make([]arrow.Array, len(f.Cols))
	defer func() {
		for _, a := range arrays {
			if a != nil {
				a.Release()
			}
		}
	}()
	n := -1
	for i, c := range f.Cols {
		if n >= 0 && len(c.Values) != n {
			return nil, fmt.Errorf("%s: column %q has %d values, want %d", f.Key, c.Name, len(c.Values), n)
		}
		n = len(c.Values)
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
		a, err := build(c)
		if err != nil {
			return nil, fmt.Errorf("%s: column %q: %w", f.Key, c.Name, err)
		}
		arrays[i] = a
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrays, int64(n)), nil
}

func build(c Column) (arrow.Array, error) {
	b := array.NewBuilder(memory.DefaultAllocator, c.Type)
	defer b.Release()
	for i, v := range c.Values {
		if v == nil {
			b.AppendNull()
			continue
		}
		ok := false
		switch bb := b.(type) {
		case *array.Int64Builder:
			var x int64
			if x, ok = v.(int64); ok {
				bb.Append(x)
			}
		case *array.StringBuilder:
			var x string
			if x, ok = v.(string); ok {
				bb.Append(x)
			}
		case *array.BooleanBuilder:
			var x bool
			if x, ok = v.(bool); ok {
				bb.Append(x)
			}
		case *array.Float64Builder:
			var x float64
			if x, ok = v.(float64); ok {
				bb.Append(x)
			}
		case *array.TimestampBuilder:
			var x time.Time
			if x, ok = v.(time.Time); ok {
				bb.AppendTime(x)
			}
		default:
			return nil, fmt.Errorf("unsupported type %s", c.Type)
		}
		if !ok {
			return nil, fmt.Errorf("value %d (%T) does not fit %s", i, v, c.Type)
		}
	}
	return b.NewArray(), nil
}

// Body is the object's content: Parquet (row groups of 2 rows, so readers cross row-group
// boundaries), cut in the middle for Corrupt files, or Raw.
func (f File) Body() ([]byte, error) {
	if f.Cols == nil {
		return f.Raw, nil
	}
	rec, err := f.Record()
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	tbl := array.NewTableFromRecords(rec.Schema(), []arrow.RecordBatch{rec})
	defer tbl.Release()
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, 2, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps()); err != nil {
		return nil, fmt.Errorf("%s: write parquet: %w", f.Key, err)
	}
	b := buf.Bytes()
	if f.Kind == Corrupt {
		// Keep the first half and the last 8 bytes (footer length + "PAR1").
		b = append(append([]byte{}, b[:len(b)/2]...), b[len(b)-8:]...)
	}
	return b, nil
}

// Table is what a destination must hold for one table.
type Table struct {
	Fields []canon.Field
	Rows   []string // canonical rows, sorted
}

// Added is what a producer uploads after the first sync: new objects in existing tables, which
// an incremental sync must read exactly once (whichever shard owns them).
func Added() []File {
	var out []File
	for i := range 4 {
		id := int64(1000 + 10*i)
		out = append(out, File{Key: fmt.Sprintf("%s/users/part-%d.parquet", PathPrefix, 3+i), Table: "users", Kind: Synced, Cols: users(
			[]any{id, id + 1},
			[]any{fmt.Sprintf("added-%d", i), nil},
			[]any{i%2 == 0, nil},
			[]any{float64(i) + 0.5, nil},
			[]any{t("2025-01-01T00:00:00Z").Add(time.Duration(i) * time.Hour), nil},
		)})
		out = append(out, File{Key: fmt.Sprintf("%s/sales/eu/2025-%02d.parquet", PathPrefix, 1+i), Table: "sales_eu", Kind: Synced, Cols: sales(
			[]any{2000 + id},
			[]any{fmt.Sprintf("SKU-%d", 100+i)},
			[]any{float64(i) * 2.25},
			[]any{true},
			[]any{t("2025-02-01T00:00:00Z").Add(time.Duration(i) * time.Minute)},
		)})
	}
	return out
}

// Expected returns, per table name, the columns and rows of every Synced object of Files.
func Expected() (map[string]*Table, error) { return ExpectedOf(Files()) }

// ExpectedOf returns, per table name, the columns and rows of every Synced object of files.
func ExpectedOf(files []File) (map[string]*Table, error) {
	out := map[string]*Table{}
	for _, f := range files {
		if f.Kind != Synced {
			continue
		}
		rec, err := f.Record()
		if err != nil {
			return nil, err
		}
		rows, err := canon.Rows(rec)
		fields := canon.Fields(rec.Schema())
		rec.Release()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Key, err)
		}
		tb, ok := out[f.Table]
		if !ok {
			tb = &Table{Fields: fields}
			out[f.Table] = tb
		} else if fmt.Sprint(tb.Fields) != fmt.Sprint(fields) {
			return nil, fmt.Errorf("%s: columns %v differ from the table's %v", f.Key, fields, tb.Fields)
		}
		tb.Rows = append(tb.Rows, rows...)
	}
	for _, tb := range out {
		sort.Strings(tb.Rows)
	}
	return out, nil
}

// CorruptKeys lists the objects the plugin must skip as malformed.
func CorruptKeys() []string {
	var keys []string
	for _, f := range Files() {
		if f.Kind == Corrupt {
			keys = append(keys, f.Key)
		}
	}
	return keys
}
