package parquetio

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/infobloxopen/cq-source-s3/internal/drift"
	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// fuzzSeeds are the reproducers' files: valid ones and each kind of damage.
func fuzzSeeds(t testing.TB) [][]byte {
	good, nested := ints(t, 250), nestedFile(t)
	spark := int96File(t, []time.Time{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), nullTime, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}, 2)
	seeds := [][]byte{good, nested, spark, geoFile(t, "GEOMETRY"), bombFile(t, 20, 100), tinyHugeFooter(), []byte("PAR1PAR1"), []byte("not parquet at all")}
	// Schema drift, the LZ4 codec, legacy lists, a page claiming 2 GiB.
	seeds = append(seeds, driftSeeds(t)...)
	seeds = append(seeds, codecFile(t, compress.Codecs.Lz4, parquet.DataPageV1), codecFile(t, compress.Codecs.Lz4, parquet.DataPageV2),
		parquettest.Rewrite(t, codecFile(t, compress.Codecs.Lz4Raw, parquet.DataPageV1), func(n int) int { return n },
			func(md *metadata.FileMetaData) { md.RowGroups[0].Columns[0].MetaData.Codec = 5 }),
		legacyListFile(t), hugePageClaim(t))
	// Files of the property test (types_test.go): every type, codec and page layout.
	for seed := int64(1); seed <= 12; seed++ {
		seeds = append(seeds, newTypeGen(seed).file(t).data)
	}
	for _, f := range [][]byte{good, nested} {
		region, _ := parquettest.Split(t, f)
		for _, edit := range []func(*metadata.FileMetaData){
			func(md *metadata.FileMetaData) { md.RowGroups[1].Columns[0].MetaData = nil },
			func(md *metadata.FileMetaData) { md.RowGroups[0].Columns[0].MetaData.TotalCompressedSize = -5 },
			func(md *metadata.FileMetaData) { md.RowGroups[0].NumRows++ },
			func(md *metadata.FileMetaData) { md.NumRows *= 2 },
		} {
			_, md := parquettest.Split(t, f)
			edit(md)
			seeds = append(seeds, parquettest.Join(t, region, md))
		}
		_, md := parquettest.Split(t, f)
		seeds = append(seeds, parquettest.Join(t, region[:len(region)*7/10], md), f[:len(f)/2])
	}
	return seeds
}

// driftSeeds are files whose columns a table normalises (drift): dictionary
// and large strings, timestamps in ms with a zone and in ns, nested fields
// required, maps and lists, with the Arrow schema stored.
func driftSeeds(t testing.TB) [][]byte {
	req := func(typ arrow.DataType) arrow.Field { return arrow.Field{Name: "x", Type: typ} }
	var seeds [][]byte
	for _, c := range []struct {
		typ  arrow.DataType
		rows string
	}{
		{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, `[{"x":"a"},{"x":null},{"x":"a"}]`},
		{arrow.BinaryTypes.LargeString, `[{"x":"a"},{"x":null}]`},
		{&arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "America/New_York"}, `[{"x":"2024-03-10T06:59:59.123Z"},{"x":null}]`},
		{arrow.FixedWidthTypes.Timestamp_ns, `[{"x":"1969-12-31T23:59:59.999999999Z"}]`},
		{arrow.StructOf(req(arrow.PrimitiveTypes.Int32), arrow.Field{Name: "l", Type: arrow.ListOfField(req(arrow.BinaryTypes.LargeString)), Nullable: true}),
			`[{"x":{"x":1,"l":["a","b"]}},{"x":null}]`},
		{arrow.MapOf(arrow.BinaryTypes.String, arrow.FixedWidthTypes.Timestamp_ms), `[{"x":[{"key":"k","value":"1970-01-01T00:00:00.001Z"}]}]`},
	} {
		sc := arrow.NewSchema([]arrow.Field{{Name: "x", Type: c.typ, Nullable: true}}, nil)
		rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, sc, strings.NewReader(c.rows))
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		seeds = append(seeds, parquettest.WriteStored(t, rec, 2, nil))
		rec.Release()
	}
	return seeds
}

// normalized is the schema a table takes from a file's schema.
func normalized(sc *arrow.Schema) *arrow.Schema {
	fields := make([]arrow.Field, sc.NumFields())
	for i, f := range sc.Fields() {
		fields[i] = arrow.Field{Name: f.Name, Type: drift.Normalize(f.Type), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// rowGroupRows is what a read must deliver: the row groups' rows (a footer
// total that disagrees is repaired, as pyarrow reads such files).
func rowGroupRows(md *metadata.FileMetaData) int64 {
	var n int64
	for _, rg := range md.GetRowGroups() {
		n += rg.NumRows
	}
	return n
}

// FuzzReadBatches feeds arbitrary bytes through the whole object-reading path.
// Any panic that escapes (in a goroutine arrow-go starts) fails the run; a
// successful read must deliver exactly the footer's row count, and so must a
// read converting to the table types the file's schema normalises to (or it
// fails with ErrConversion: a random timestamp can be beyond microseconds).
func FuzzReadBatches(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ra := &rangeReader{ctx: context.Background(), api: &memGetter{data: data}, obj: Object{Bucket: "b", Key: "k", Size: int64(len(data))}}
		md, _, _, err := readFooter(ra)
		if err == nil && rowGroupRows(md) > 100_000 {
			t.Skip("too many rows for a fuzz iteration")
		}
		r := read(t, data, ReadOptions{BatchRows: 64, BatchBytes: 1 << 20})
		if r.err == nil {
			if md == nil || r.rows != rowGroupRows(md) {
				t.Fatalf("read %d rows without error; footer: %v", r.rows, err)
			}
			sc, _, err := Schema(context.Background(), ra.api, ra.obj)
			if err != nil {
				t.Fatalf("read without error, but Schema: %v", err)
			}
			c := read(t, data, ReadOptions{BatchRows: 64, BatchBytes: 1 << 20, Target: normalized(sc)})
			if c.err == nil && c.rows != r.rows {
				t.Fatalf("read %d rows, %d converted", r.rows, c.rows)
			}
			if c.err != nil && !errors.Is(c.err, ErrConversion) {
				t.Fatalf("converting: %v", c.err)
			}
			return
		}
		if !errors.Is(r.err, ErrMalformed) && !errors.Is(r.err, ErrIncomplete) && !errors.Is(r.err, ErrTooLarge) {
			t.Fatalf("unclassified error: %v", r.err)
		}
	})
}
