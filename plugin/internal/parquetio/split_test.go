package parquetio

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// bombFile is a few-KB Parquet file that expands to rows × width bytes of
// strings when decoded: one dictionary entry, referenced by every row.
func bombFile(t testing.TB, rows, width int) []byte {
	t.Helper()
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "blob", Type: dt}}, nil)
	ids := array.NewInt64Builder(memory.DefaultAllocator)
	defer ids.Release()
	db := array.NewDictionaryBuilder(memory.DefaultAllocator, dt).(*array.BinaryDictionaryBuilder)
	defer db.Release()
	big := strings.Repeat("x", width)
	for i := 0; i < rows; i++ {
		ids.Append(int64(i))
		if err := db.AppendString(big); err != nil {
			t.Fatal(err)
		}
	}
	idCol, blobCol := ids.NewArray(), db.NewArray()
	defer idCol.Release()
	defer blobCol.Release()
	tbl := array.NewTableFromSlice(sc, [][]arrow.Array{{idCol}, {blobCol}})
	defer tbl.Release()
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(true), parquet.WithDictionaryPageSizeLimit(int64(2*width)))
	return parquettest.Write(t, tbl, int64(rows), props)
}

// Class 4: one batch of a small file decodes to more than a message may hold.
// Records are split by byte size instead of ending the stream.
func TestRecordsSplitByBytes(t *testing.T) {
	data := bombFile(t, 1000, 128<<10) // 125 MiB of strings
	if len(data) > 300<<10 {
		t.Fatalf("bomb file is %d bytes; want a small file", len(data))
	}
	tests := []struct {
		name      string
		opts      ReadOptions
		maxRecord int64
	}{
		{"default bound", ReadOptions{BatchRows: 1000}, DefaultBatchBytes},
		{"1 MiB bound", ReadOptions{BatchRows: 500, BatchBytes: 1 << 20}, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows, sum, records, biggest int64
			_, err := ReadBatches(context.Background(), &memGetter{data: data}, Object{Bucket: "b", Key: "k", Size: int64(len(data))}, tt.opts,
				func(*arrow.Schema) error { return nil },
				func(rec arrow.RecordBatch) error {
					records++
					rows += rec.NumRows()
					biggest = max(biggest, recordBytes(rec))
					for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
						sum += v
					}
					blobs := rec.Column(1).(*array.String)
					if blobs.Value(0) != strings.Repeat("x", 128<<10) {
						return errors.New("wrong value")
					}
					return nil
				})
			if err != nil || rows != 1000 || sum != 999*1000/2 {
				t.Fatalf("rows %d, sum %d, err %v", rows, sum, err)
			}
			if biggest > tt.maxRecord || records < (1000*128<<10)/tt.maxRecord {
				t.Fatalf("%d records, biggest %d bytes; bound %d", records, biggest, tt.maxRecord)
			}
		})
	}
}

// A single row over the bound cannot be sent at all: the object is refused, naming the row.
func TestRowOverByteBoundIsRefused(t *testing.T) {
	data := bombFile(t, 10, 64<<10)
	r := read(t, data, ReadOptions{BatchRows: 4, BatchBytes: 32 << 10})
	if r.rows != 0 || !errors.Is(r.err, ErrTooLarge) || !Permanent(r.err) ||
		!strings.Contains(r.err.Error(), "s3://b/t/x.parquet: at row 0: row too large: a row of 65554 bytes exceeds the 32768-byte record limit") {
		t.Fatalf("rows %d, err %v", r.rows, r.err)
	}
}

func TestArrayBytesCountsOnlyTheSlice(t *testing.T) {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues([]string{"a", "bb", "ccc", "dddd"}, nil)
	s := b.NewArray()
	defer s.Release()
	sl := array.NewSlice(s, 1, 3)
	defer sl.Release()
	// 1 bitmap byte + 3 offsets × 4 + "bb" + "ccc"
	if got := arrayBytes(sl); got != 1+12+5 {
		t.Fatalf("arrayBytes(slice) = %d", got)
	}
	lb := array.NewListBuilder(memory.DefaultAllocator, arrow.PrimitiveTypes.Int64)
	defer lb.Release()
	for i := 0; i < 4; i++ {
		lb.Append(true)
		for j := 0; j <= i; j++ {
			lb.ValueBuilder().(*array.Int64Builder).Append(int64(j))
		}
	}
	l := lb.NewArray()
	defer l.Release()
	ls := array.NewSlice(l, 3, 4) // one list of 4 int64
	defer ls.Release()
	if got := arrayBytes(ls); got != 1+8+(1+32) {
		t.Fatalf("arrayBytes(list slice) = %d", got)
	}
}
