package client_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	pqschema "github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"

	"github.com/infobloxopen/cq-source-s3/internal/client"
	"github.com/infobloxopen/cq-source-s3/internal/parquetio"
	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// storedFile writes one record of schema sc, filled by JSON rows, with the
// Arrow schema stored in the file as pyarrow does: the reader gets back
// dictionary, large_utf8 and zoned timestamp columns.
func storedFile(t *testing.T, sc *arrow.Schema, rows string) []byte {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, sc, strings.NewReader(rows))
	if err != nil {
		t.Fatalf("record from %s: %v", rows, err)
	}
	defer rec.Release()
	return parquettest.WriteStored(t, rec, 1024, nil)
}

// dictFile writes ids and names with the names as a dictionary column.
func dictFile(t *testing.T, ids []int64, names []string) []byte {
	t.Helper()
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: dt, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i, id := range ids {
		b.Field(0).(*array.Int64Builder).Append(id)
		if err := b.Field(1).(*array.BinaryDictionaryBuilder).AppendString(names[i]); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return parquettest.WriteStored(t, rec, 1024, nil)
}

// naiveNanos writes ids and timestamps as Parquet TIMESTAMP(NANOS) not
// adjusted to UTC (a "local" time, no zone), as pyarrow writes timestamp[ns].
func naiveNanos(t *testing.T, ids, ns []int64) []byte {
	t.Helper()
	idNode, err := pqschema.NewPrimitiveNode("id", parquet.Repetitions.Required, parquet.Types.Int64, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	tsNode, err := pqschema.NewPrimitiveNodeLogical("ts", parquet.Repetitions.Optional,
		pqschema.NewTimestampLogicalType(false, pqschema.TimeUnitNanos), parquet.Types.Int64, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	root, err := pqschema.NewGroupNode("schema", parquet.Repetitions.Required, pqschema.FieldList{idNode, tsNode}, -1)
	if err != nil {
		t.Fatal(err)
	}
	def := make([]int16, len(ns))
	for i := range def {
		def[i] = 1
	}
	return parquettest.WriteColumns(t, root, nil, parquettest.Column{Values: ids}, parquettest.Column{Values: ns, Def: def})
}

// rowsAsJSON renders every row sent for each table as JSON, in id order.
func rowsAsJSON(t *testing.T, msgs []message.SyncMessage) map[string][]string {
	t.Helper()
	type row struct {
		id   int64
		json string
	}
	byTable := map[string][]row{}
	for _, m := range msgs {
		ins, ok := m.(*message.SyncInsert)
		if !ok {
			continue
		}
		rec := ins.Record
		name, _ := rec.Schema().Metadata().GetValue(schema.MetadataTableName)
		for i := 0; i < int(rec.NumRows()); i++ {
			var parts []string
			for c, f := range rec.Schema().Fields() {
				v, err := json.Marshal(rec.Column(c).GetOneForMarshal(i))
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, f.Name+"="+string(v))
			}
			byTable[name] = append(byTable[name], row{rec.Column(0).(*array.Int64).Value(i), strings.Join(parts, " ")})
		}
	}
	out := map[string][]string{}
	for name, rows := range byTable {
		sort.Slice(rows, func(i, j int) bool { return rows[i].id < rows[j].id })
		for _, r := range rows {
			out[name] = append(out[name], r.json)
		}
	}
	return out
}

// Issue item 6: files of one table written by different writers (or
// versions) differ in encoding, offsets width, timestamp unit and zone, and
// nested nullability, not in data. Before, every file but those exactly like
// the table's first was skipped as a schema mismatch; now each record is
// converted to the table's normalised types. A real incompatibility is still
// skipped, and the warning names the differing field.
func TestSyncUnifiesSchemaDrift(t *testing.T) {
	id := arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64}
	str := func(typ arrow.DataType) *arrow.Schema {
		return arrow.NewSchema([]arrow.Field{id, {Name: "name", Type: typ, Nullable: true}}, nil)
	}
	ts := func(typ arrow.DataType) *arrow.Schema {
		return arrow.NewSchema([]arrow.Field{id, {Name: "ts", Type: typ, Nullable: true}}, nil)
	}
	list := func(elemNullable bool) *arrow.Schema {
		return arrow.NewSchema([]arrow.Field{id, {Name: "l", Type: arrow.ListOfField(arrow.Field{Name: "item", Type: arrow.PrimitiveTypes.Int32, Nullable: elemNullable}), Nullable: true}}, nil)
	}
	nested := func(nullable bool) *arrow.Schema {
		inner := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.BinaryTypes.String, Nullable: nullable})
		s := arrow.StructOf(
			arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int32, Nullable: nullable},
			arrow.Field{Name: "inner", Type: inner, Nullable: nullable},
		)
		return arrow.NewSchema([]arrow.Field{id, {Name: "s", Type: s, Nullable: true}}, nil)
	}
	nestedK := func(k arrow.DataType) *arrow.Schema {
		s := arrow.StructOf(arrow.Field{Name: "k", Type: k, Nullable: true})
		return arrow.NewSchema([]arrow.Field{id, {Name: "s", Type: s, Nullable: true}}, nil)
	}
	ny := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "America/New_York"}
	objects := map[string][]byte{
		"data/names/a.parquet": storedFile(t, str(arrow.BinaryTypes.String), `[{"id":1,"name":"ann"},{"id":2,"name":null}]`),
		"data/names/b.parquet": dictFile(t, []int64{3, 4, 5}, []string{"bob", "bob", "cy"}),
		"data/names/c.parquet": storedFile(t, str(arrow.BinaryTypes.LargeString), `[{"id":6,"name":"dee"}]`),

		// 2024-03-10 01:59:59.123 in New York is 06:59:59.123Z; the ns file has no zone.
		"data/times/a.parquet": storedFile(t, ts(ny), `[{"id":1,"ts":"2024-03-10T06:59:59.123Z"},{"id":2,"ts":null}]`),
		"data/times/b.parquet": naiveNanos(t, []int64{3, 4}, []int64{1710054000123456789, -1}),
		"data/times/c.parquet": storedFile(t, ts(&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "Asia/Tokyo"}), `[{"id":5,"ts":"9999-12-31T23:59:59.999999Z"}]`),

		"data/lists/a.parquet": storedFile(t, list(false), `[{"id":1,"l":[1,2]},{"id":2,"l":[]}]`),
		"data/lists/b.parquet": storedFile(t, list(true), `[{"id":3,"l":[3,null]},{"id":4,"l":null}]`),

		"data/structs/a.parquet": storedFile(t, nested(false), `[{"id":1,"s":{"k":1,"inner":{"x":"a"}}}]`),
		"data/structs/b.parquet": storedFile(t, nested(true), `[{"id":2,"s":{"k":null,"inner":{"x":null}}},{"id":3,"s":{"k":3,"inner":null}},{"id":4,"s":null}]`),

		"data/bad/a.parquet": storedFile(t, ts(arrow.FixedWidthTypes.Timestamp_ms), `[{"id":1,"ts":"2024-01-01T00:00:00Z"}]`),
		"data/bad/b.parquet": storedFile(t, ts(arrow.BinaryTypes.String), `[{"id":2,"ts":"yesterday"}]`),

		"data/badnested/a.parquet": storedFile(t, nestedK(arrow.PrimitiveTypes.Int32), `[{"id":1,"s":{"k":1}}]`),
		"data/badnested/b.parquet": storedFile(t, nestedK(arrow.BinaryTypes.String), `[{"id":2,"s":{"k":"one"}}]`),
	}
	f := newFixture(t, objects)
	// What each file's own schema says (the drift the table must absorb).
	for key, want := range map[string]string{
		"data/names/b.parquet":   "dictionary<values=utf8, indices=int32, ordered=false>",
		"data/names/c.parquet":   "large_utf8",
		"data/times/a.parquet":   "timestamp[ms, tz=America/New_York]",
		"data/times/b.parquet":   "timestamp[ns]",
		"data/times/c.parquet":   "timestamp[us, tz=Asia/Tokyo]",
		"data/lists/a.parquet":   "list<element: int32>",
		"data/lists/b.parquet":   "list<element: int32, nullable>",
		"data/structs/a.parquet": "struct<k: int32, inner: struct<x: utf8>>",
		"data/bad/b.parquet":     "utf8",
	} {
		sc, _, err := parquetio.Schema(context.Background(), f.api, parquetio.Object{Bucket: bucket, Key: key, Size: int64(len(objects[key]))})
		if err != nil {
			t.Fatal(err)
		}
		if got := sc.Field(1).Type.String(); got != want {
			t.Errorf("%s: file type %s, want %s", key, got, want)
		}
	}
	logs := &syncWriter{}
	c, err := client.New(context.Background(), zerolog.New(logs), mustSpec(t, f.url, 500, 4), f.api, false)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.Tables(context.Background(), plugin.TableOptions{Tables: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := map[string]string{
		"names.name":  "utf8",
		"times.ts":    "timestamp[us, tz=UTC]",
		"lists.l":     "list<item: int32, nullable>",
		"structs.s":   "struct<k: int32 nullable, inner: struct<x: utf8 nullable> nullable>",
		"bad.ts":      "timestamp[us, tz=UTC]",
		"badnested.s": "struct<k: int32 nullable>",
	}
	for _, tbl := range tables {
		for _, col := range tbl.Columns[1:] {
			key := tbl.Name + "." + col.Name
			if got := col.Type.String(); got != wantTypes[key] {
				t.Errorf("%s: type %s, want %s", key, got, wantTypes[key])
			}
		}
	}
	if s := tables.Get("structs").Columns[1].Type.(*arrow.StructType); !s.Field(0).Nullable || !s.Field(1).Nullable || !s.Field(1).Type.(*arrow.StructType).Field(0).Nullable {
		t.Errorf("structs.s: nested fields not all nullable: %v", s.Fields())
	}

	got := rowsAsJSON(t, runSync(t, c, []string{"*"}))
	want := map[string][]string{
		"names": {
			`id=1 name="ann"`, `id=2 name=null`, `id=3 name="bob"`, `id=4 name="bob"`, `id=5 name="cy"`, `id=6 name="dee"`,
		},
		"times": {
			`id=1 ts="2024-03-10T06:59:59.123Z"`,
			`id=2 ts=null`,
			`id=3 ts="2024-03-10T07:00:00.123456Z"`, // nanoseconds cut to microseconds
			`id=4 ts="1969-12-31T23:59:59.999999Z"`, // towards the earlier instant
			`id=5 ts="9999-12-31T23:59:59.999999Z"`, // Tokyo: the same instant in UTC
		},
		"lists": {
			`id=1 l=[1,2]`, `id=2 l=[]`, `id=3 l=[3,null]`, `id=4 l=null`,
		},
		"structs": {
			`id=1 s={"inner":{"x":"a"},"k":1}`,
			`id=2 s={"inner":{"x":null},"k":null}`,
			`id=3 s={"inner":null,"k":3}`,
			`id=4 s=null`,
		},
		"bad":       {`id=1 ts="2024-01-01T00:00:00Z"`},
		"badnested": {`id=1 s={"k":1}`},
	}
	for name, rows := range want {
		if strings.Join(got[name], "\n") != strings.Join(rows, "\n") {
			t.Errorf("%s: got %d rows\n%s\nwant %d rows\n%s", name, len(got[name]), strings.Join(got[name], "\n"), len(rows), strings.Join(rows, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("rows for %d tables, want %d", len(got), len(want))
	}

	log := logs.String()
	for _, w := range []string{
		`schema mismatch: table \"bad\": column \"ts\" is timestamp[us, tz=UTC] in the table but utf8 in the file","table":"bad","key":"data/bad/b.parquet"`,
		`schema mismatch: table \"badnested\": column \"s.k\" is int32 in the table but utf8 in the file","table":"badnested","key":"data/badnested/b.parquet"`,
	} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %s:\n%s", w, log)
		}
	}
	if n := strings.Count(log, "skipping object"); n != 2 {
		t.Errorf("%d objects skipped, want 2:\n%s", n, log)
	}
}
