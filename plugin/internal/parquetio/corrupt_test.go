package parquetio

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// Reproducers for the failure classes of real-world Parquet: each test builds
// a valid file with arrow-go, damages it the way other tools' files are
// damaged, and asserts exactly what the reader delivers.

// nestedFile has a struct column, whose children arrow-go reads in goroutines
// of its own: 30 rows {id: i, s: {a: i*10, b: "b-i"}} in row groups of 10.
func nestedFile(t testing.TB) []byte {
	t.Helper()
	st := arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32}, arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true})
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: st, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	sb := b.Field(1).(*array.StructBuilder)
	for i := 0; i < 30; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Int32Builder).Append(int32(i * 10))
		sb.FieldBuilder(1).(*array.StringBuilder).Append(fmt.Sprintf("b-%d", i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return parquettest.WriteRecord(t, rec, 10)
}

type readResult struct {
	rows    int64
	batches []int64
	sum     int64
	err     error
}

func read(t testing.TB, data []byte, opts ReadOptions) readResult {
	t.Helper()
	var r readResult
	obj := Object{Bucket: "b", Key: "t/x.parquet", Size: int64(len(data))}
	r.rows, r.err = ReadBatches(context.Background(), &memGetter{data: data}, obj, opts,
		func(*arrow.Schema) error { return nil },
		func(rec arrow.RecordBatch) error {
			r.batches = append(r.batches, rec.NumRows())
			if ids, ok := rec.Column(0).(*array.Int64); ok {
				for _, v := range ids.Int64Values() {
					r.sum += v
				}
			}
			return nil
		})
	return r
}

// Class 2: the footer is intact but the data region is short. Before, arrow-go
// wrapped io.EOF, the batch loop took it for the end, and 70-90% of the rows
// arrived without a word. Now nothing is emitted and the object is incomplete.
func TestShortDataRegionIsIncomplete(t *testing.T) {
	good := ints(t, 250) // row groups of 100, 100, 50
	region, md := parquettest.Split(t, good)
	lastRG := md.RowGroup(2)
	cc, err := lastRG.ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	lastStart := cc.DataPageOffset()
	if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 {
		lastStart = cc.DictionaryPageOffset()
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"last row group cut", parquettest.Join(t, region[:lastStart], md)},
		{"last 30% of the bytes removed", parquettest.Join(t, region[:len(region)*7/10], md)},
		{"last byte of the data removed", parquettest.Join(t, region[:len(region)-1], md)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := read(t, tt.data, ReadOptions{BatchRows: 100})
			if r.rows != 0 || len(r.batches) != 0 {
				t.Fatalf("emitted %d rows in %v from a short object", r.rows, r.batches)
			}
			if !errors.Is(r.err, ErrIncomplete) || Permanent(r.err) ||
				!strings.Contains(r.err.Error(), "incomplete parquet: s3://b/t/x.parquet: row group ") ||
				!strings.Contains(r.err.Error(), "past the data region") {
				t.Fatalf("err = %v, want ErrIncomplete naming the object, the row group and the reason", r.err)
			}
		})
	}
	// The intact file, for contrast: every row, exactly.
	if r := read(t, good, ReadOptions{BatchRows: 100}); r.err != nil || r.rows != 250 || r.sum != 249*250/2 || fmt.Sprint(r.batches) != "[100 100 50]" {
		t.Fatalf("intact file: %+v", r)
	}
}

// Class 2, the footer side: row counts that disagree with each other. The
// footer's total is not what rows are read by (pyarrow and parquet-java read
// the row groups): it is repaired with a note. A row group whose chunk holds
// fewer values than its row count would make rows wrong: refused.
func TestInconsistentRowCounts(t *testing.T) {
	good := ints(t, 250)
	for _, total := range []int64{0, 300} {
		region, md := parquettest.Split(t, good)
		md.NumRows = total // row groups hold 250
		var notes []string
		r := read(t, parquettest.Join(t, region, md), ReadOptions{BatchRows: 100, Warn: func(n string) { notes = append(notes, n) }})
		if r.err != nil || r.rows != 250 || r.sum != 249*250/2 {
			t.Fatalf("footer total %d: rows %d, sum %d, err %v", total, r.rows, r.sum, r.err)
		}
		want := fmt.Sprintf("footer says %d rows, its row groups hold 250; reading the row groups' 250", total)
		if len(notes) != 1 || !strings.Contains(notes[0], want) {
			t.Fatalf("footer total %d: notes %q, want one containing %q", total, notes, want)
		}
	}
	region, md := parquettest.Split(t, good)
	md.RowGroups[1].NumRows = 120 // its chunk holds 100 values
	r := read(t, parquettest.Join(t, region, md), ReadOptions{BatchRows: 100})
	if r.rows != 0 || r.err == nil || !strings.Contains(r.err.Error(), `chunk holds 100 values for 120 rows`) {
		t.Fatalf("rows %d, err %v", r.rows, r.err)
	}
}

// Class 1: metadata that made arrow-go panic in goroutines it starts itself
// (nil dereference in metadata.NewColumnChunkMetaData; "makeslice: len out of
// range" in ReaderProperties.GetStream), which killed the whole process. The
// nested file matters: its struct children are read in arrow-go's goroutines.
func TestCorruptChunkMetadataIsReportedNotFatal(t *testing.T) {
	for _, f := range []struct {
		name string
		data []byte
		col  int // a leaf; 1 is inside the struct for the nested file
	}{{"flat", ints(t, 250), 0}, {"nested", nestedFile(t), 1}} {
		damage := []struct {
			name, want string
			edit       func(md *metadata.FileMetaData)
		}{
			{"chunk without metadata", "column chunk has no metadata", func(md *metadata.FileMetaData) {
				md.RowGroups[1].Columns[f.col].MetaData = nil
			}},
			{"negative chunk length", "negative count, size or offset", func(md *metadata.FileMetaData) {
				md.RowGroups[0].Columns[f.col].MetaData.TotalCompressedSize = -5
			}},
			{"chunk length beyond the object", "ends past the data region", func(md *metadata.FileMetaData) {
				md.RowGroups[0].Columns[f.col].MetaData.TotalCompressedSize = 1 << 62
			}},
			{"negative offset", "negative count, size or offset", func(md *metadata.FileMetaData) {
				md.RowGroups[0].Columns[f.col].MetaData.DataPageOffset = -1 << 40
			}},
			{"missing column chunk", "column chunks for", func(md *metadata.FileMetaData) {
				md.RowGroups[0].Columns = md.RowGroups[0].Columns[:f.col]
			}},
			{"chunk of another type", "chunk type", func(md *metadata.FileMetaData) {
				md.RowGroups[0].Columns[f.col].MetaData.Type = 6 // BYTE_ARRAY... or FLOAT for strings
				if md.Schema.Column(f.col).PhysicalType() == parquet.Types.ByteArray {
					md.RowGroups[0].Columns[f.col].MetaData.Type = 4
				}
			}},
		}
		for _, d := range damage {
			t.Run(f.name+"/"+d.name, func(t *testing.T) {
				region, md := parquettest.Split(t, f.data)
				d.edit(md)
				r := read(t, parquettest.Join(t, region, md), ReadOptions{BatchRows: 7})
				if r.rows != 0 || r.err == nil || !strings.Contains(r.err.Error(), "s3://b/t/x.parquet") || !strings.Contains(r.err.Error(), d.want) {
					t.Fatalf("rows %d, err %v; want an error naming the object and %q", r.rows, r.err, d.want)
				}
			})
		}
	}
	if r := read(t, nestedFile(t), ReadOptions{BatchRows: 7}); r.err != nil || r.rows != 30 || r.sum != 29*30/2 || fmt.Sprint(r.batches) != "[7 7 7 7 2]" {
		t.Fatalf("intact nested file: %+v", r)
	}
}

// tinyHugeFooter is a 50-byte "Parquet file" whose footer declares a schema
// list of 60 million elements: arrow-go's Thrift decoder pre-allocates the
// list (about 480 MB) before it finds there is nothing to read.
func tinyHugeFooter() []byte {
	foot := []byte{
		0x15, 0x02, // field 1 (version), i32 1
		0x19, 0xfc, // field 2 (schema), list of structs, size follows
	}
	foot = binary.AppendUvarint(foot, 60_000_000)
	foot = append(foot, 0x15, 0x00, 0x00) // the start of one element, then nothing
	out := []byte("PAR1")
	out = append(out, make([]byte, 50-4-8-len(foot))...)
	out = append(out, foot...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(foot)))
	return append(out, "PAR1"...)
}

// Class 3: footer and metadata sizes are bounded by the object's size before
// anything is allocated.
func TestFooterSizesBoundedByObjectSize(t *testing.T) {
	tiny := tinyHugeFooter()
	if len(tiny) != 50 {
		t.Fatalf("len %d", len(tiny))
	}
	lengthTooBig := append(append([]byte("PAR1"), make([]byte, 30)...), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1')
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"list length beyond the footer", tiny, "container of 60000000 elements needs at least 60000000 bytes"}, // arrow-go ≥ 18.6 checks before allocating
		{"footer length beyond the object", lengthTooBig, "footer length 2147483647 does not fit in an object of 42 bytes"},
		{"too small", []byte("PAR1PAR1"), "too small to be Parquet"},
		{"encrypted footer", append(append([]byte("PAR1"), make([]byte, 30)...), 4, 0, 0, 0, 'P', 'A', 'R', 'E'), "encrypted Parquet is not supported"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			r := read(t, tt.data, ReadOptions{BatchRows: 100})
			_, _, serr := Schema(context.Background(), &memGetter{data: tt.data}, Object{Bucket: "b", Key: "t/x.parquet", Size: int64(len(tt.data))})
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
				t.Errorf("reading a %d-byte object allocated %d bytes", len(tt.data), alloc)
			}
			for _, err := range []error{r.err, serr} {
				if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want malformed with %q", err, tt.want)
				}
			}
		})
	}
}

// Metadata the reader never uses, or overstates, where pyarrow reads the file
// whole: read whole, with one note each (the sync logs them as warnings).
func TestRepairedMetadataIsReadWithANote(t *testing.T) {
	good := ints(t, 250)
	far := int64(1 << 40)
	n := int32(64)
	for _, tt := range []struct {
		name, note string
		edit       func(md *metadata.FileMetaData)
	}{
		{"page index outside the data region", "page index outside the data region; ignored", func(md *metadata.FileMetaData) {
			md.RowGroups[1].Columns[0].ColumnIndexOffset, md.RowGroups[1].Columns[0].ColumnIndexLength = &far, &n
		}},
		{"bloom filter outside the data region", "bloom filter outside the data region; ignored", func(md *metadata.FileMetaData) {
			md.RowGroups[0].Columns[0].MetaData.BloomFilterOffset = &far
		}},
		{"last chunk's size reaching into the footer", "reaches 40 bytes into the footer; read up to the end of the data region", func(md *metadata.FileMetaData) {
			md.RowGroups[2].Columns[0].MetaData.TotalCompressedSize += 40
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			region, md := parquettest.Split(t, good)
			tt.edit(md)
			var notes []string
			r := read(t, parquettest.Join(t, region, md), ReadOptions{BatchRows: 100, Warn: func(n string) { notes = append(notes, n) }})
			if r.err != nil || r.rows != 250 || r.sum != 249*250/2 {
				t.Fatalf("rows %d, sum %d, err %v", r.rows, r.sum, r.err)
			}
			if len(notes) != 1 || !strings.Contains(notes[0], tt.note) {
				t.Fatalf("notes %q, want one containing %q", notes, tt.note)
			}
		})
	}
}
