package parquetio

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// fuzzSeeds are the reproducers' files: valid ones and each kind of damage.
func fuzzSeeds(t testing.TB) [][]byte {
	good, nested := ints(t, 250), nestedFile(t)
	spark := int96File(t, []time.Time{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), nullTime, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}, 2)
	seeds := [][]byte{good, nested, spark, geoFile(t, "GEOMETRY"), bombFile(t, 20, 100), tinyHugeFooter(), []byte("PAR1PAR1"), []byte("not parquet at all")}
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

// FuzzReadBatches feeds arbitrary bytes through the whole object-reading path.
// Any panic that escapes (in a goroutine arrow-go starts) fails the run; a
// successful read must deliver exactly the footer's row count.
func FuzzReadBatches(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ra := &rangeReader{ctx: context.Background(), api: &memGetter{data: data}, obj: Object{Bucket: "b", Key: "k", Size: int64(len(data))}}
		md, _, _, err := readFooter(ra)
		if err == nil && md.GetNumRows() > 100_000 {
			t.Skip("too many rows for a fuzz iteration")
		}
		r := read(t, data, ReadOptions{BatchRows: 64, BatchBytes: 1 << 20})
		if r.err == nil {
			if md == nil || r.rows != md.GetNumRows() {
				t.Fatalf("read %d rows without error; footer: %v", r.rows, err)
			}
			return
		}
		if !errors.Is(r.err, ErrMalformed) && !errors.Is(r.err, ErrIncomplete) && !errors.Is(r.err, ErrTooLarge) {
			t.Fatalf("unclassified error: %v", r.err)
		}
	})
}
