package parquetio

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// jsonText is the type a Parquet JSON column is read as: arrow.json over
// utf8, as pyarrow reads it (the table then declares CloudQuery's json).
var jsonText = func() arrow.DataType {
	t, err := extensions.NewJSONType(arrow.BinaryTypes.String)
	if err != nil {
		panic(err)
	}
	return t
}()

// annotatedFields returns the top-level BYTE_ARRAY columns whose annotation
// arrow-go ignores, reading them as plain binary, and the type pyarrow reads
// them as: ENUM (DuckDB, Avro, Thrift writers) as utf8, JSON as arrow.json.
// A file whose stored Arrow schema types the column otherwise keeps that.
// Inside a nested type they stay binary.
func annotatedFields(fr *pqarrow.FileReader, sc *arrow.Schema) map[int]arrow.DataType {
	sch := fr.ParquetReader().MetaData().Schema
	out := map[int]arrow.DataType{}
	for i, sf := range fr.Manifest.Fields {
		if !sf.IsLeaf() || sc.Field(i).Type.ID() != arrow.BINARY {
			continue
		}
		col := sch.Column(sf.ColIndex)
		if col.PhysicalType() != parquet.Types.ByteArray {
			continue
		}
		switch col.LogicalType().(type) {
		case schema.EnumLogicalType:
			out[i] = arrow.BinaryTypes.String
		case schema.JSONLogicalType:
			out[i] = jsonText
		}
		if _, ok := out[i]; !ok && col.ConvertedType() == schema.ConvertedTypes.Enum {
			out[i] = arrow.BinaryTypes.String
		}
		if _, ok := out[i]; !ok && col.ConvertedType() == schema.ConvertedTypes.JSON {
			out[i] = jsonText
		}
	}
	return out
}

// withAnnotated returns sc with the fields of annotated typed as it says.
func withAnnotated(sc *arrow.Schema, annotated map[int]arrow.DataType) *arrow.Schema {
	if len(annotated) == 0 {
		return sc
	}
	fields := sc.Fields()
	for i, t := range annotated {
		fields[i].Type = t
	}
	md := sc.Metadata()
	return arrow.NewSchema(fields, &md)
}

// relabelReader reads a binary column as a type of the same layout (utf8,
// or arrow.json over utf8): the buffers are shared, not copied.
type relabelReader struct {
	columnReader
	field arrow.Field
}

func (r *relabelReader) Field() *arrow.Field { return &r.field }

func (r *relabelReader) NextBatch(n int64) (*arrow.Chunked, error) {
	in, err := r.columnReader.NextBatch(n)
	if err != nil {
		return nil, err
	}
	defer in.Release()
	chunks := make([]arrow.Array, 0, len(in.Chunks()))
	for _, c := range in.Chunks() {
		d := c.Data()
		out := array.NewData(r.field.Type, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
		chunks = append(chunks, array.MakeFromData(out))
		out.Release()
	}
	defer func() {
		for _, c := range chunks {
			c.Release()
		}
	}()
	return arrow.NewChunked(r.field.Type, chunks), nil
}
