package drift

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func field(name string, typ arrow.DataType, nullable bool) arrow.Field {
	return arrow.Field{Name: name, Type: typ, Nullable: nullable}
}

func TestNormalize(t *testing.T) {
	md := arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{"3"})
	for _, tt := range []struct {
		in   arrow.DataType
		want string
	}{
		{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.LargeString}, "utf8"},
		{arrow.BinaryTypes.StringView, "utf8"},
		{arrow.BinaryTypes.LargeBinary, "binary"},
		{&arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "America/New_York"}, "timestamp[us, tz=UTC]"},
		{&arrow.TimestampType{Unit: arrow.Second}, "timestamp[us, tz=UTC]"},
		{arrow.LargeListOfField(field("element", arrow.PrimitiveTypes.Int32, false)), "list<item: int32, nullable>"},
		{arrow.FixedSizeListOfField(2, field("x", arrow.PrimitiveTypes.Float32, false)), "fixed_size_list<item: float32, nullable>[2]"},
		{arrow.MapOfWithMetadata(arrow.BinaryTypes.LargeString, arrow.Metadata{}, arrow.FixedWidthTypes.Timestamp_ms, md), "map<utf8, timestamp[us, tz=UTC], items_nullable>"},
		{arrow.StructOf(arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int32, Metadata: md},
			field("l", arrow.ListOfField(field("element", arrow.BinaryTypes.LargeString, false)), false)),
			"struct<k: int32 nullable, l: list<item: utf8, nullable> nullable>"},
		{arrow.PrimitiveTypes.Int32, "int32"},
		{&arrow.Decimal128Type{Precision: 10, Scale: 2}, "decimal(10, 2)"},
	} {
		got := Normalize(tt.in)
		if got.String() != tt.want {
			t.Errorf("Normalize(%s) = %s, want %s", tt.in, got, tt.want)
		}
		if err := Check("c", got, tt.in); err != nil {
			t.Errorf("Check(%s, %s): %v", got, tt.in, err)
		}
	}
	s := Normalize(arrow.StructOf(arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int32, Metadata: md})).(*arrow.StructType)
	if f := s.Field(0); !f.Nullable || f.HasMetadata() {
		t.Errorf("struct field %v: want nullable without metadata", f)
	}
}

func TestCheckNamesTheDifference(t *testing.T) {
	s := func(fields ...arrow.Field) arrow.DataType { return arrow.StructOf(fields...) }
	i32, str := arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String
	for _, tt := range []struct {
		name        string
		table, file arrow.DataType
		want        string
	}{
		{"leaf", Timestamp, str, `column "c" is timestamp[us, tz=UTC] in the table but utf8 in the file`},
		{"struct field", Normalize(s(field("k", i32, false))), s(field("k", str, false)), `column "c.k" is int32 in the table but utf8 in the file`},
		{"deeper", Normalize(s(field("a", s(field("b", arrow.ListOf(i32), true)), true))),
			s(field("a", s(field("b", arrow.ListOf(arrow.PrimitiveTypes.Int64), true)), true)),
			`column "c.a.b[]" is int32 in the table but int64 in the file`},
		{"renamed field", Normalize(s(field("k", i32, true))), s(field("j", i32, true)), `column "c": field 0 is "k" in the table but "j" in the file`},
		{"missing field", Normalize(s(field("k", i32, true), field("j", i32, true))), s(field("k", i32, true)), `column "c": field "j" of the table is missing in the file`},
		{"extra field", Normalize(s(field("k", i32, true))), s(field("k", i32, true), field("j", i32, true)), `column "c": field "j" of the file is not in the table`},
		{"map value", Normalize(arrow.MapOf(str, i32)), arrow.MapOf(str, str), `column "c.value" is int32 in the table but utf8 in the file`},
		{"map key", Normalize(arrow.MapOf(str, i32)), arrow.MapOf(i32, i32), `column "c.key" is utf8 in the table but int32 in the file`},
		{"string vs binary", str, arrow.BinaryTypes.Binary, `column "c" is utf8 in the table but binary in the file`},
		{"fixed size", Normalize(arrow.FixedSizeListOf(2, i32)), arrow.FixedSizeListOf(3, i32), `column "c" is fixed_size_list<item: int32, nullable>[2] in the table but fixed_size_list<item: int32, nullable>[3] in the file`},
		{"decimal scale", &arrow.Decimal128Type{Precision: 10, Scale: 2}, &arrow.Decimal128Type{Precision: 10, Scale: 3}, `column "c" is decimal(10, 2) in the table but decimal(10, 3) in the file`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Check("c", tt.table, tt.file)
			var m *Mismatch
			if !errors.As(err, &m) || err.Error() != tt.want {
				t.Fatalf("Check = %v, want %s", err, tt.want)
			}
		})
	}
}

// fromJSON builds an array of type typ from JSON values.
func fromJSON(t *testing.T, typ arrow.DataType, js string) arrow.Array {
	t.Helper()
	arr, _, err := array.FromJSON(memory.DefaultAllocator, typ, strings.NewReader(js))
	if err != nil {
		t.Fatalf("%s from %s: %v", typ, js, err)
	}
	return arr
}

func asJSON(t *testing.T, arr arrow.Array) string {
	t.Helper()
	b, err := json.Marshal(arr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConform(t *testing.T) {
	i32, str := arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: str}
	for _, tt := range []struct {
		name string
		from arrow.DataType
		in   string
		// slice, when set, conforms in[slice[0]:slice[1]] (a non-zero offset).
		slice []int64
		want  string
	}{
		{"dictionary strings", dict, `["a", null, "b", "a"]`, nil, `["a",null,"b","a"]`},
		{"large strings sliced", arrow.BinaryTypes.LargeString, `["x", "yy", null, "zzz"]`, []int64{1, 4}, `["yy",null,"zzz"]`},
		{"large binary", arrow.BinaryTypes.LargeBinary, `["AQI=", null]`, nil, `["AQI=",null]`},
		{"string view", arrow.BinaryTypes.StringView, `["short", null, "a string longer than twelve bytes"]`, nil, `["short",null,"a string longer than twelve bytes"]`},
		{"binary view", arrow.BinaryTypes.BinaryView, `["AQI=", null]`, nil, `["AQI=",null]`},
		{"milliseconds in New York", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "America/New_York"},
			`["2024-03-10T06:59:59.123Z", null, "1970-01-01T00:00:00Z"]`, nil,
			`["2024-03-10T06:59:59.123Z",null,"1970-01-01T00:00:00Z"]`},
		{"nanoseconds floored", arrow.FixedWidthTypes.Timestamp_ns,
			`["1970-01-01T00:00:00.000001999Z", "1969-12-31T23:59:59.999999001Z", null, "2262-04-11T23:47:16.854775807Z"]`, []int64{0, 4},
			`["1970-01-01T00:00:00.000001Z","1969-12-31T23:59:59.999999Z",null,"2262-04-11T23:47:16.854775Z"]`},
		{"seconds sliced with nulls", &arrow.TimestampType{Unit: arrow.Second}, `[null, -62135596800, null, 253402300799]`, []int64{1, 4},
			`["0001-01-01T00:00:00Z",null,"9999-12-31T23:59:59Z"]`},
		{"list element not null", arrow.ListOfField(field("element", i32, false)), `[[1, 2], [], null, [3]]`, nil, `[[1,2],[],null,[3]]`},
		{"large list of dictionary, sliced", arrow.LargeListOf(dict), `[["a"], ["b", null], null, []]`, []int64{1, 4}, `[["b",null],null,[]]`},
		{"fixed size list", arrow.FixedSizeListOfField(2, field("v", arrow.FixedWidthTypes.Timestamp_ms, false)), `[["1970-01-01T00:00:01Z", "1970-01-01T00:00:02Z"], null]`, nil,
			`[["1970-01-01T00:00:01Z","1970-01-01T00:00:02Z"],null]`},
		{"nested struct nullability, sliced", arrow.StructOf(field("k", i32, false), field("inner", arrow.StructOf(field("x", arrow.BinaryTypes.LargeString, false)), false)),
			`[{"k": 0, "inner": {"x": "skip"}}, {"k": 1, "inner": {"x": "a"}}, null, {"k": 3, "inner": {"x": "c"}}]`, []int64{1, 4},
			`[{"inner":{"x":"a"},"k":1},null,{"inner":{"x":"c"},"k":3}]`},
		{"map of large strings to milliseconds", arrow.MapOf(arrow.BinaryTypes.LargeString, arrow.FixedWidthTypes.Timestamp_ms),
			`[[{"key": "a", "value": "1970-01-01T00:00:00.001Z"}, {"key": "b", "value": null}], null, []]`, nil,
			`[[{"key":"a","value":"1970-01-01T00:00:00.001Z"},{"key":"b","value":null}],null,[]]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := fromJSON(t, tt.from, tt.in)
			defer in.Release()
			if tt.slice != nil {
				s := array.NewSlice(in, tt.slice[0], tt.slice[1])
				defer s.Release()
				in = s
			}
			to := Normalize(tt.from)
			out, err := Conform(memory.DefaultAllocator, "c", in, to)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			if !arrow.TypeEqual(out.DataType(), to, arrow.CheckMetadata()) {
				t.Errorf("type %s, want %s", out.DataType(), to)
			}
			if out.Len() != in.Len() || out.NullN() != in.NullN() {
				t.Errorf("%d values, %d nulls; want %d, %d", out.Len(), out.NullN(), in.Len(), in.NullN())
			}
			// The result must survive what a destination does with it: IPC.
			rt := ipcRoundTrip(t, out)
			defer rt.Release()
			if !array.Equal(rt, out) {
				t.Errorf("IPC round trip changed %s into %s", out, rt)
			}
			if got := asJSON(t, out); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestConformOutOfRange(t *testing.T) {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Millisecond})
	defer b.Release()
	b.AppendValues([]arrow.Timestamp{0, math.MaxInt64 / 10}, nil)
	in := b.NewArray()
	defer in.Release()
	_, err := Conform(memory.DefaultAllocator, "ts", in, Timestamp)
	if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), `column "ts", row 1: 922337203685477580 ms is out of range for timestamp[us, tz=UTC]`) {
		t.Fatalf("err = %v", err)
	}
}

func ipcRoundTrip(t *testing.T, arr arrow.Array) arrow.Array {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{{Name: "c", Type: arr.DataType(), Nullable: true}}, nil)
	rec := array.NewRecordBatch(sc, []arrow.Array{arr}, int64(arr.Len()))
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(sc))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if !r.Next() {
		t.Fatalf("IPC: no record: %v", r.Err())
	}
	out := r.RecordBatch().Column(0)
	out.Retain()
	return out
}
