package parquetio

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// rangeRecorder serves data and records every GET's range.
type rangeRecorder struct {
	data   []byte
	mu     sync.Mutex // columns are read in parallel
	ranges [][2]int64
}

func (r *rangeRecorder) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	var from, to int64
	if _, err := fmt.Sscanf(aws.ToString(in.Range), "bytes=%d-%d", &from, &to); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.ranges = append(r.ranges, [2]int64{from, to + 1})
	r.mu.Unlock()
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(r.data[from : to+1]))}, nil
}

// Column data is read through bounded range reads, never a whole column chunk
// at once: memory does not grow with row-group size. One row group of 3
// columns of 8 MB each (uncompressed, plain), read in full and checked.
func TestColumnChunksAreStreamed(t *testing.T) {
	const rows = 1 << 20
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "c", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer bld.Release()
	for i := range rows {
		bld.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%7 == 0 {
			bld.Field(1).AppendNull()
		} else {
			bld.Field(1).(*array.Int64Builder).Append(int64(i) * 3)
		}
		bld.Field(2).(*array.Float64Builder).Append(float64(i) / 2)
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Uncompressed), parquet.WithDictionaryDefault(false),
		parquet.WithDataPageVersion(parquet.DataPageV2))
	data := parquettest.Write(t, tbl, rows, props)
	region, md := parquettest.Split(t, data)
	if md.NumRowGroups() != 1 {
		t.Fatalf("%d row groups", md.NumRowGroups())
	}

	api := &rangeRecorder{data: data}
	var got, sum int64
	obj := Object{Bucket: "b", Key: "t/x.parquet", Size: int64(len(data))}
	n, err := ReadBatches(context.Background(), api, obj, ReadOptions{BatchRows: 50_000},
		func(*arrow.Schema) error { return nil },
		func(rec arrow.RecordBatch) error {
			got += rec.NumRows()
			for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
				sum += v
			}
			return nil
		})
	if err != nil || n != rows || got != rows || sum != int64(rows)*(rows-1)/2 {
		t.Fatalf("read %d/%d rows (sum %d), err %v", n, got, sum, err)
	}
	// The writer's pages are 1 MiB (arrow-go's default): no GET of column data
	// is larger than a page and the read buffer, and a page takes about two.
	const page = 1 << 20
	var dataGets int
	for _, r := range api.ranges {
		if r[0] >= int64(len(region)) {
			continue // the footer
		}
		dataGets++
		if size := r[1] - r[0]; size > page+StreamBuffer {
			t.Errorf("GET of %d bytes at %d: column data must be read a page at a time", size, r[0])
		}
	}
	if pages := len(region) / page; dataGets < pages || dataGets > 3*pages+16 {
		t.Errorf("%d GETs for %d bytes of column data (%d pages)", dataGets, len(region), pages)
	}
}
