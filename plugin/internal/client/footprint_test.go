package client

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/infobloxopen/cq-source-s3/internal/parquetio"
	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
	"github.com/infobloxopen/cq-source-s3/internal/spec"
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
	width := rg.TotalByteSize() / rg.NumRows()
	// One int64 column, chunks of 4000 values (~32 KB) < parquetio.StreamBuffer:
	// read buffer and pages are the largest chunk.
	var chunk int64
	for i := 0; i < md.NumRowGroups(); i++ {
		cc, _ := md.RowGroup(i).ColumnChunk(0)
		chunk = max(chunk, cc.TotalCompressedSize())
	}
	if got, want := footprint(md, 1000), 2*(4*chunk+3*1000*width); got != want {
		t.Errorf("footprint(1000 rows) = %d, want twice 4 buffers of %d + three batches %d", got, chunk, 3*1000*width)
	}
	// A batch never holds more rows than the file.
	if got, want := footprint(md, 1<<20), 2*(4*chunk+3*10_000*width); got != want {
		t.Errorf("footprint(1Mi rows) = %d, want %d", got, want)
	}
	// Row-group size does not change it: the same rows in one row group.
	one := footer(t, 10_000, 10_000)
	var oneChunk int64
	if cc, err := one.RowGroup(0).ColumnChunk(0); err == nil {
		oneChunk = cc.TotalCompressedSize()
	}
	if got, want := footprint(one, 1000), 2*(min(oneChunk, parquetio.StreamBuffer)+3*min(oneChunk, parquetio.TypicalPage)+3*1000*(one.RowGroup(0).TotalByteSize()/10_000)); got != want {
		t.Errorf("footprint of one row group = %d, want %d", got, want)
	}
	if rows := decodeRows(md, 500); rows < 500 || rows > maxDecodeRows {
		t.Errorf("decodeRows = %d, want between rows_per_record and %d", rows, maxDecodeRows)
	}
	if rows := decodeRows(md, 1_000_000); rows != 1_000_000 {
		t.Errorf("decodeRows with rows_per_record 1000000 = %d; records are decoded as asked", rows)
	}

	// A lying footer saturates instead of overflowing; the budget caps it.
	md.RowGroups[1].TotalByteSize = math.MaxInt64
	if got := footprint(md, 1000); got < spec.MaxBytesInFlight {
		t.Errorf("footprint with a huge total_byte_size = %d, want at least the largest budget (no overflow)", got)
	}
	if got := footprint(md, 1<<40); got != math.MaxInt64 {
		t.Errorf("footprint with a huge total_byte_size and batch = %d, want MaxInt64", got)
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
