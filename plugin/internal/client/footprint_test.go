package client

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

func footer(t *testing.T, rows int, rowGroup int64) *metadata.FileMetaData {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for i := 0; i < rows; i++ {
		b.Append(int64(i) * 7919)
	}
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(sc, []arrow.Array{col}, int64(rows))
	defer rec.Release()
	_, md := parquettest.Split(t, parquettest.WriteRecord(t, rec, rowGroup))
	return md
}

func TestFootprint(t *testing.T) {
	md := footer(t, 10_000, 4_000) // row groups of 4000, 4000, 2000 rows
	rg := md.RowGroup(0)
	largest := compressedBytes(rg) + rg.TotalByteSize()
	width := rg.TotalByteSize() / rg.NumRows()
	if got, want := footprint(md, 1000), largest+1000*width; got != want {
		t.Errorf("footprint(1000 rows) = %d, want largest row group %d + one batch %d", got, largest, 1000*width)
	}
	// A batch never holds more rows than the file.
	if got, want := footprint(md, 1<<20), largest+10_000*width; got != want {
		t.Errorf("footprint(1Mi rows) = %d, want %d", got, want)
	}
	if rows := decodeRows(md, 500); rows < 500 || rows > maxDecodeRows {
		t.Errorf("decodeRows = %d, want between rows_per_record and %d", rows, maxDecodeRows)
	}
	if rows := decodeRows(md, 1_000_000); rows != 1_000_000 {
		t.Errorf("decodeRows with rows_per_record 1000000 = %d; records are decoded as asked", rows)
	}

	// A lying footer saturates instead of overflowing; the budget caps it.
	md.RowGroups[1].TotalByteSize = math.MaxInt64
	if got := footprint(md, 1000); got != math.MaxInt64 {
		t.Errorf("footprint with a huge total_byte_size = %d, want MaxInt64", got)
	}
	md.RowGroups[1].TotalByteSize = -5
	md.RowGroups[0].TotalByteSize = -5
	md.RowGroups[2].TotalByteSize = -5
	if got := footprint(md, 1000); got < 0 {
		t.Errorf("footprint with negative sizes = %d", got)
	}
	if rows := decodeRows(md, 500); rows < 500 || rows > maxDecodeRows {
		t.Errorf("decodeRows with negative sizes = %d", rows)
	}
}
