package parquetio

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/pierrec/lz4/v4"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// codecFile holds 1000 rows (id, a repetitive string, a struct) in row groups
// of 300, in small pages, compressed with codec.
func codecFile(t testing.TB, codec compress.Compression, pageVersion parquet.DataPageVersion) []byte {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	st := b.Field(2).(*array.StructBuilder)
	for i := 0; i < 1000; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%7 == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("value-%d", i%13))
		}
		st.Append(true)
		st.FieldBuilder(0).(*array.Int32Builder).Append(int32(-i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	props := parquet.NewWriterProperties(parquet.WithCompression(codec), parquet.WithDataPageSize(512), parquet.WithDataPageVersion(pageVersion))
	return parquettest.Write(t, tbl, 300, props)
}

// codecRows is what codecFile holds, one JSON object per row.
func codecRows() []string {
	var rows []string
	for i := 0; i < 1000; i++ {
		s := "null"
		if i%7 != 0 {
			s = fmt.Sprintf("%q", fmt.Sprintf("value-%d", i%13))
		}
		rows = append(rows, fmt.Sprintf(`{"id":%d,"s":%s,"st":{"a":%d}}`, i, s, -i))
	}
	return rows
}

// readJSON reads data whole and renders each row as a JSON object.
func readJSON(t *testing.T, data []byte) ([]string, error) {
	t.Helper()
	var rows []string
	obj := Object{Bucket: "b", Key: "t/x.parquet", Size: int64(len(data))}
	_, err := ReadBatches(context.Background(), &memGetter{data: data}, obj, ReadOptions{BatchRows: 128},
		func(*arrow.Schema) error { return nil },
		func(rec arrow.RecordBatch) error {
			var buf bytes.Buffer
			if err := array.RecordToJSON(rec, &buf); err != nil {
				return err
			}
			rows = append(rows, strings.Split(strings.TrimSpace(buf.String()), "\n")...)
			return nil
		})
	return rows, err
}

// Issue item 8: the deprecated LZ4 codec (id 5), as parquet-mr, Spark and
// Arrow C++ wrote it, with Hadoop's framing. arrow-go has no codec for it, so
// these objects failed as malformed ("compression for LZ4 unimplemented");
// now they read whole, in v1 and v2 data pages, flat and nested columns.
func TestReadsHadoopLZ4(t *testing.T) {
	want := codecRows()
	for _, v := range []parquet.DataPageVersion{parquet.DataPageV1, parquet.DataPageV2} {
		t.Run(fmt.Sprintf("data page v%d", v+1), func(t *testing.T) {
			data := codecFile(t, compress.Codecs.Lz4, v)
			_, md := parquettest.Split(t, data)
			cc, err := md.RowGroup(0).ColumnChunk(1)
			if err != nil || cc.Compression() != compress.Codecs.Lz4 {
				t.Fatalf("column chunk codec %v (%v), want LZ4", cc.Compression(), err)
			}
			got, err := readJSON(t, data)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("got %d rows, want %d; first %v", len(got), len(want), got[:min(3, len(got))])
			}
		})
	}
}

// Older parquet-cpp and fastparquet wrote raw LZ4 blocks under the same codec
// id: the file is written as LZ4_RAW and its footer relabelled LZ4.
func TestReadsRawLZ4BlocksUnderLZ4Codec(t *testing.T) {
	data := parquettest.Rewrite(t, codecFile(t, compress.Codecs.Lz4Raw, parquet.DataPageV1), func(n int) int { return n },
		func(md *metadata.FileMetaData) {
			for _, rg := range md.RowGroups {
				for _, cc := range rg.Columns {
					cc.MetaData.Codec = 5 // LZ4
				}
			}
		})
	got, err := readJSON(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if want := codecRows(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
}

// A codec the plugin cannot read (LZO) fails the object before any row is
// emitted, with a message naming the codec and the column.
func TestUnsupportedCodecIsNamed(t *testing.T) {
	data := parquettest.Rewrite(t, codecFile(t, compress.Codecs.Snappy, parquet.DataPageV1), func(n int) int { return n },
		func(md *metadata.FileMetaData) { md.RowGroups[1].Columns[1].MetaData.Codec = 3 }) // LZO
	r := read(t, data, ReadOptions{BatchRows: 100})
	if r.rows != 0 || !errors.Is(r.err, ErrMalformed) ||
		!strings.Contains(r.err.Error(), `row group 1, column "s": compression codec LZO is not supported`) {
		t.Fatalf("rows %d, err %v", r.rows, r.err)
	}
}

// hadoopFrame is one Hadoop block of uncompressed size n made of the given
// raw LZ4 chunks.
func hadoopFrame(n int, chunks ...[]byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	for _, c := range chunks {
		out = binary.BigEndian.AppendUint32(out, uint32(len(c)))
		out = append(out, c...)
	}
	return out
}

func lz4Block(t *testing.T, src []byte) []byte {
	t.Helper()
	dst := make([]byte, lz4.CompressBlockBound(len(src)))
	var c lz4.Compressor
	n, err := c.CompressBlock(src, dst)
	if err != nil || n == 0 {
		t.Fatalf("compress: %d, %v", n, err)
	}
	return dst[:n]
}

func lz4Frame(t *testing.T, src []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := lz4.NewWriter(&buf)
	if _, err := w.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHadoopLZ4Decode(t *testing.T) {
	a := bytes.Repeat([]byte("abcdefgh"), 100)
	b := []byte("the second block, not very compressible: 0123456789")
	ab := append(append([]byte(nil), a...), b...)
	codec, err := compress.GetCodec(compress.Codecs.Lz4)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		src  []byte
		want []byte
	}{
		{"one block", hadoopFrame(len(a), lz4Block(t, a)), a},
		{"two blocks", append(hadoopFrame(len(a), lz4Block(t, a)), hadoopFrame(len(b), lz4Block(t, b))...), ab},
		{"one block in two chunks", hadoopFrame(len(ab), lz4Block(t, a), lz4Block(t, b)), ab},
		{"raw block", lz4Block(t, ab), ab},
		{"LZ4 frame", lz4Frame(t, ab), ab},
		{"the plugin's own encoding", codec.Encode(nil, ab), ab},
		{"empty page", nil, []byte{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := codec.Decode(make([]byte, len(tt.want)), tt.src)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("decoded %d bytes %q, want %d", len(got), got[:min(len(got), 20)], len(tt.want))
			}
		})
	}
	for _, tt := range []struct {
		name string
		src  []byte
		size int
	}{
		{"garbage", []byte("definitely not lz4 at all"), 100},
		{"Hadoop block shorter than the page", hadoopFrame(len(a), lz4Block(t, a)), len(a) + 1},
		{"truncated chunk", hadoopFrame(len(a), lz4Block(t, a))[:20], len(a)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "LZ4 (Hadoop) codec: page of") {
					t.Fatalf("recovered %v, want a panic naming the codec", r)
				}
			}()
			codec.Decode(make([]byte, tt.size), tt.src)
		})
	}
}

// A corrupt LZ4 page fails the object as malformed, naming the codec; the
// rows of the row groups before it were emitted (the count says so).
func TestCorruptLZ4PageIsMalformed(t *testing.T) {
	data := codecFile(t, compress.Codecs.Lz4, parquet.DataPageV1)
	region, md := parquettest.Split(t, data)
	cc, err := md.RowGroup(1).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), region...)
	// The dictionary page of "id" in row group 1 holds 300 int64s: its
	// payload starts with the Hadoop block size 2400 (big-endian). Claim one
	// byte more, as a damaged or mis-framed page would.
	start := cc.DictionaryPageOffset()
	i := bytes.Index(bad[start:start+64], binary.BigEndian.AppendUint32(nil, 2400))
	if i < 0 {
		t.Fatal("no Hadoop block header in the dictionary page")
	}
	binary.BigEndian.PutUint32(bad[start+int64(i):], 2401)
	r := read(t, parquettest.Join(t, bad, md), ReadOptions{BatchRows: 100})
	if !errors.Is(r.err, ErrMalformed) || !strings.Contains(r.err.Error(), "LZ4 (Hadoop) codec") {
		t.Fatalf("rows %d, err %v", r.rows, r.err)
	}
	if r.rows != 300 {
		t.Errorf("%d rows emitted before the corrupt row group, want 300", r.rows)
	}
}
