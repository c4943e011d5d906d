// Package parquettest writes Parquet files for tests, takes them apart and puts them back together, so a test
// can damage a valid file the way other tools' files are damaged: edit the footer, cut the data.
// Only tests import it.
package parquettest

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Write encodes tbl as a Parquet file in row groups of rowGroup rows, with props (nil: the
// writer's defaults).
func Write(t testing.TB, tbl arrow.Table, rowGroup int64, props *parquet.WriterProperties) []byte {
	t.Helper()
	if props == nil {
		props = parquet.NewWriterProperties()
	}
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, rowGroup, props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatalf("write parquet: %v", err)
	}
	return buf.Bytes()
}

// WriteRecord encodes one record batch as a Parquet file in row groups of rowGroup rows.
func WriteRecord(t testing.TB, rec arrow.RecordBatch, rowGroup int64) []byte {
	t.Helper()
	tbl := array.NewTableFromRecords(rec.Schema(), []arrow.RecordBatch{rec})
	defer tbl.Release()
	return Write(t, tbl, rowGroup, nil)
}

// WriteStored encodes one record batch like WriteRecord, with props (nil: the writer's defaults),
// and stores its Arrow schema in the file as pyarrow does by default: a reader then gets back
// dictionary, large_utf8 and time-zoned timestamp columns instead of what Parquet alone says.
func WriteStored(t testing.TB, rec arrow.RecordBatch, rowGroup int64, props *parquet.WriterProperties) []byte {
	t.Helper()
	if props == nil {
		props = parquet.NewWriterProperties()
	}
	tbl := array.NewTableFromRecords(rec.Schema(), []arrow.RecordBatch{rec})
	defer tbl.Release()
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, rowGroup, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		t.Fatalf("write parquet: %v", err)
	}
	return buf.Bytes()
}

// Column is the data of one leaf column for WriteColumns: its values (a []int32, []int64,
// []float64, []bool or []parquet.ByteArray) and its definition and repetition levels (nil when
// the column's maximum level is 0).
type Column struct {
	Values   any
	Def, Rep []int16
}

// WriteColumns writes a file with Parquet schema root (built with arrow-go's parquet/schema, so
// any layout older writers produce can be reproduced) and one row group holding cols, one per
// leaf column in schema order.
func WriteColumns(t testing.TB, root *schema.GroupNode, props *parquet.WriterProperties, cols ...Column) []byte {
	t.Helper()
	if props == nil {
		props = parquet.NewWriterProperties()
	}
	var buf bytes.Buffer
	w := file.NewParquetWriter(&buf, root, file.WithWriterProps(props))
	rg := w.AppendRowGroup()
	for i, c := range cols {
		cw, err := rg.NextColumn()
		if err != nil {
			t.Fatalf("column %d: %v", i, err)
		}
		switch v := c.Values.(type) {
		case []int32:
			_, err = cw.(*file.Int32ColumnChunkWriter).WriteBatch(v, c.Def, c.Rep)
		case []int64:
			_, err = cw.(*file.Int64ColumnChunkWriter).WriteBatch(v, c.Def, c.Rep)
		case []float64:
			_, err = cw.(*file.Float64ColumnChunkWriter).WriteBatch(v, c.Def, c.Rep)
		case []bool:
			_, err = cw.(*file.BooleanColumnChunkWriter).WriteBatch(v, c.Def, c.Rep)
		case []parquet.ByteArray:
			_, err = cw.(*file.ByteArrayColumnChunkWriter).WriteBatch(v, c.Def, c.Rep)
		default:
			t.Fatalf("column %d: unsupported values %T", i, v)
		}
		if err != nil {
			t.Fatalf("column %d: %v", i, err)
		}
		if err := cw.Close(); err != nil {
			t.Fatalf("column %d: %v", i, err)
		}
	}
	if err := rg.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Split splits a Parquet file into its data region (everything before the footer) and its
// decoded footer metadata.
func Split(t testing.TB, data []byte) ([]byte, *metadata.FileMetaData) {
	t.Helper()
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	md, err := metadata.NewFileMetaData(data[len(data)-8-n:len(data)-8], nil)
	if err != nil {
		t.Fatal(err)
	}
	return data[:len(data)-8-n], md
}

// Join appends md to region as a footer (encoded metadata, its length and the magic).
func Join(t testing.TB, region []byte, md *metadata.FileMetaData) []byte {
	t.Helper()
	var foot bytes.Buffer
	if _, err := md.WriteTo(&foot, nil); err != nil {
		t.Fatal(err)
	}
	out := append(append([]byte(nil), region...), foot.Bytes()...)
	out = binary.LittleEndian.AppendUint32(out, uint32(foot.Len()))
	return append(out, "PAR1"...)
}

// Rewrite re-encodes the footer of a valid file after edit (nil: unchanged), keeping the first
// keep(len(region)) bytes of its data region: the footer stays intact, the data may not.
func Rewrite(t testing.TB, good []byte, keep func(regionLen int) int, edit func(*metadata.FileMetaData)) []byte {
	t.Helper()
	region, md := Split(t, good)
	if edit != nil {
		edit(md)
	}
	return Join(t, region[:keep(len(region))], md)
}
