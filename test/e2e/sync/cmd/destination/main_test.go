package main

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/canon"
)

// What the fixture appends, it reads back unchanged: the state backend depends on it.
func TestReadBackInvertsCanonRows(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "key", Type: arrow.BinaryTypes.String},
		{Name: "value", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "version", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{`s3://lake/exports#t@gen=1,shard=2/3`, "a\nb \"quoted\""}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{`{"last_modified":"2026-01-01T00:00:00Z"}`, ""}, []bool{true, false})
	b.Field(2).(*array.Uint64Builder).AppendValues([]uint64{1, 18446744073709551615}, nil)
	b.Field(3).(*array.Int64Builder).AppendValues([]int64{-9223372036854775808, 7}, nil)
	rec := b.NewRecordBatch()
	rows, err := canon.Rows(rec)
	if err != nil {
		t.Fatal(err)
	}
	back, err := readBack(sc, []byte(strings.Join(rows, "\n")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !array.RecordEqual(rec, back) {
		t.Fatalf("read back\n%v\nwrote\n%v", back, rec)
	}
	if _, err := readBack(arrow.NewSchema([]arrow.Field{{Name: "f", Type: arrow.PrimitiveTypes.Float64}}, nil), []byte(`{"f":"1.5"}`)); err == nil ||
		!strings.Contains(err.Error(), "only utf8 and integer columns") {
		t.Fatalf("float column: err = %v", err)
	}
}
