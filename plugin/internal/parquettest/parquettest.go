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
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
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
