package parquetio

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/infobloxopen/cq-source-s3/internal/drift"
	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// legacyListFile writes, with arrow-go's low-level writer, the list layouts
// older writers (parquet-avro's old list structure, Thrift, Spark legacy)
// produce, five rows each:
//
//	a: optional group a (LIST) { repeated group array (LIST) { repeated int32 array } }
//	b: optional group b (LIST) { repeated int32 array }
//	c: optional group c (LIST) { repeated group array (MAP) { repeated group map (MAP_KEY_VALUE) { required binary key (UTF8); optional int32 value } } }
//	d: optional group d (LIST) { repeated group d_tuple (LIST) { repeated int32 d_tuple_tuple } }
//	e: optional group e (LIST) { repeated group array { required int32 x } }
//	f: optional group f (LIST) { repeated group array (LIST) { repeated group array (LIST) { repeated int32 array } } }
func legacyListFile(t testing.TB) []byte {
	t.Helper()
	R, O, Q := parquet.Repetitions.Required, parquet.Repetitions.Optional, parquet.Repetitions.Repeated
	node := func(n schema.Node, err error) schema.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	i32 := func(name string, rep parquet.Repetition) schema.Node {
		return node(schema.NewPrimitiveNode(name, rep, parquet.Types.Int32, -1, -1))
	}
	list := func(name string, rep parquet.Repetition, child schema.Node) schema.Node {
		return node(schema.NewGroupNodeConverted(name, rep, schema.FieldList{child}, schema.ConvertedTypes.List, -1))
	}
	kv := node(schema.NewGroupNodeConverted("map", Q, schema.FieldList{
		node(schema.NewPrimitiveNodeConverted("key", R, parquet.Types.ByteArray, schema.ConvertedTypes.UTF8, 0, 0, 0, -1)),
		i32("value", O),
	}, schema.ConvertedTypes.MapKeyValue, -1))
	root := node(schema.NewGroupNode("schema", R, schema.FieldList{
		list("a", O, list("array", Q, i32("array", Q))),
		list("b", O, i32("array", Q)),
		list("c", O, node(schema.NewGroupNodeConverted("array", Q, schema.FieldList{kv}, schema.ConvertedTypes.Map, -1))),
		list("d", O, list("d_tuple", Q, i32("d_tuple_tuple", Q))),
		list("e", O, node(schema.NewGroupNode("array", Q, schema.FieldList{i32("x", R)}, -1))),
		list("f", O, list("array", Q, list("array", Q, i32("array", Q)))),
	}, -1))
	// Rows: a, d: [[1,2],[3]], null, [], [[]], [[4],[],[5,6]]
	nested := parquettest.Column{Values: []int32{1, 2, 3, 4, 5, 6}, Def: []int16{3, 3, 3, 0, 1, 2, 3, 2, 3, 3}, Rep: []int16{0, 2, 1, 0, 0, 0, 0, 1, 1, 2}}
	bs := func(s ...string) []parquet.ByteArray {
		out := make([]parquet.ByteArray, len(s))
		for i, v := range s {
			out[i] = parquet.ByteArray(v)
		}
		return out
	}
	return parquettest.WriteColumns(t, root.(*schema.GroupNode), nil,
		nested,
		// b: [1,2], null, [], [3], [4,5]
		parquettest.Column{Values: []int32{1, 2, 3, 4, 5}, Def: []int16{2, 2, 0, 1, 2, 2, 2}, Rep: []int16{0, 1, 0, 0, 0, 0, 1}},
		// c: [{a:1, b:null}], null, [], [{}], [{z:7}, {}]
		parquettest.Column{Values: bs("a", "b", "z"), Def: []int16{3, 3, 0, 1, 2, 3, 2}, Rep: []int16{0, 2, 0, 0, 0, 0, 1}},
		parquettest.Column{Values: []int32{1, 7}, Def: []int16{4, 3, 0, 1, 2, 4, 2}, Rep: []int16{0, 2, 0, 0, 0, 0, 1}},
		nested,
		// e: [{x:1},{x:2}], null, [], [{x:3}], [{x:4}]
		parquettest.Column{Values: []int32{1, 2, 3, 4}, Def: []int16{2, 2, 0, 1, 2, 2}, Rep: []int16{0, 1, 0, 0, 0, 0}},
		// f: [[[1],[2,3]],[[]]], null, [[]], [], [[[4]]]
		parquettest.Column{Values: []int32{1, 2, 3, 4}, Def: []int16{4, 4, 4, 3, 0, 2, 1, 4}, Rep: []int16{0, 2, 3, 1, 0, 0, 0, 0}},
	)
}

// Issue item 9: legacy lists whose repeated group is itself an annotated
// LIST or MAP element came out one level deeper than the Parquet spec and
// pyarrow read them (a: list<struct<array: list<int32>>>), and a list of maps
// failed the object ("MAP group must have exactly 1 child"). The types and
// rows below are pyarrow 26's reading of this file (pq.read_table().schema,
// .to_pylist()), which follows the spec's backward-compatibility rules.
func TestLegacyListsReadAsThePyarrowDoes(t *testing.T) {
	data := legacyListFile(t)
	sc, _, err := Schema(context.Background(), &memGetter{data: data}, Object{Bucket: "b", Key: "k", Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	// arrow-go writes "not null" by omission; its one difference from pyarrow
	// is e's element, nullable here, which a table's types make nullable anyway.
	// pyarrow: a: list<array: list<array: int32 not null> not null>
	//          b: list<array: int32 not null>
	//          c: list<array: map<string, int32 ('array')> not null>
	//          d: list<d_tuple: list<d_tuple_tuple: int32 not null> not null>
	//          e: list<array: struct<x: int32 not null> not null>
	//          f: list<array: list<array: list<array: int32 not null> not null> not null>
	want := []string{
		"a: list<array: list<array: int32>>",
		"b: list<array: int32>",
		"c: list<array: map<utf8, int32, items_nullable>>",
		"d: list<d_tuple: list<d_tuple_tuple: int32>>",
		"e: list<array: struct<x: int32>, nullable>",
		"f: list<array: list<array: list<array: int32>>>",
	}
	for i, f := range sc.Fields() {
		if got := f.Name + ": " + f.Type.String(); got != want[i] {
			t.Errorf("got  %s\nwant %s", got, want[i])
		}
	}
	rows, err := readJSON(t, data)
	if err != nil {
		t.Fatal(err)
	}
	wantRows := []string{
		`{"a":[[1,2],[3]],"b":[1,2],"c":[[{"key":"a","value":1},{"key":"b","value":null}]],"d":[[1,2],[3]],"e":[{"x":1},{"x":2}],"f":[[[1],[2,3]],[[]]]}`,
		`{"a":null,"b":null,"c":null,"d":null,"e":null,"f":null}`,
		`{"a":[],"b":[],"c":[],"d":[],"e":[],"f":[[]]}`,
		`{"a":[[]],"b":[3],"c":[[]],"d":[[]],"e":[{"x":3}],"f":[]}`,
		`{"a":[[4],[],[5,6]],"b":[4,5],"c":[[{"key":"z","value":7}],[]],"d":[[4],[],[5,6]],"e":[{"x":4}],"f":[[[4]]]}`,
	}
	if strings.Join(rows, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("got %d rows\n%s\nwant %d rows\n%s", len(rows), strings.Join(rows, "\n"), len(wantRows), strings.Join(wantRows, "\n"))
	}
}

// The list of lists alone (parquet-avro's old list structure): before, arrow-go
// read it as list<array: struct<array: list<item: int32, nullable>>>, so its
// table could not take the same data written as a standard three-level list.
func TestLegacyListOfListsMatchesStandardLayout(t *testing.T) {
	Q := parquet.Repetitions.Repeated
	inner, err := schema.NewPrimitiveNode("array", Q, parquet.Types.Int32, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	elem, err := schema.NewGroupNodeConverted("array", Q, schema.FieldList{inner}, schema.ConvertedTypes.List, -1)
	if err != nil {
		t.Fatal(err)
	}
	a, err := schema.NewGroupNodeConverted("a", parquet.Repetitions.Optional, schema.FieldList{elem}, schema.ConvertedTypes.List, -1)
	if err != nil {
		t.Fatal(err)
	}
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, schema.FieldList{a}, -1)
	if err != nil {
		t.Fatal(err)
	}
	legacy := parquettest.WriteColumns(t, root, nil,
		parquettest.Column{Values: []int32{1, 2, 3}, Def: []int16{3, 3, 3, 0, 2}, Rep: []int16{0, 2, 1, 0, 0}})
	rows, err := readJSON(t, legacy)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rows, "\n"), "{\"a\":[[1,2],[3]]}\n{\"a\":null}\n{\"a\":[[]]}"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// The same data as pyarrow or arrow-go write it today.
	b := array.NewListBuilder(memory.DefaultAllocator, arrow.ListOf(arrow.PrimitiveTypes.Int32))
	defer b.Release()
	inb := b.ValueBuilder().(*array.ListBuilder)
	ints := inb.ValueBuilder().(*array.Int32Builder)
	b.Append(true)
	inb.Append(true)
	ints.AppendValues([]int32{1, 2}, nil)
	inb.Append(true)
	ints.Append(3)
	b.AppendNull()
	b.Append(true)
	inb.Append(true)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "a", Type: col.DataType(), Nullable: true}}, nil), []arrow.Array{col}, 3)
	defer rec.Release()
	standard := parquettest.WriteRecord(t, rec, 10)

	var types []arrow.DataType
	for _, data := range [][]byte{legacy, standard} {
		sc, _, err := Schema(context.Background(), &memGetter{data: data}, Object{Bucket: "b", Key: "k", Size: int64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, sc.Field(0).Type)
	}
	if got := types[0].String(); got != "list<array: list<array: int32>>" {
		t.Errorf("legacy type %s", got)
	}
	// One table takes both: the legacy file defines it, the standard one fits.
	if err := drift.Check("a", drift.Normalize(types[0]), types[1]); err != nil {
		t.Errorf("standard file does not fit the legacy file's table: %v", err)
	}
	if srows, err := readJSON(t, standard); err != nil || strings.Join(srows, "\n") != strings.Join(rows, "\n") {
		t.Errorf("standard rows %v (%v), legacy rows %v", srows, err, rows)
	}
}
