package parquetio

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// INT96 timestamps (Impala, Hive, older Spark) are read at microsecond
// precision, Spark's convention: arrow-go converts them to nanoseconds, whose
// int64 range (1677-09-21 to 2262-04-11) wraps Spark's "end of time"
// 9999-12-31 and 0001-01-01 silently to wrong dates.
var int96Type arrow.DataType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

const (
	julianUnixEpoch = 2_440_588 // Julian day number of 1970-01-01
	microsPerDay    = 86_400_000_000
	// maxDaysFromEpoch keeps days × microsPerDay within int64.
	maxDaysFromEpoch = 106_751_991
)

// int96Fields returns the top-level fields stored as INT96. An INT96 column
// inside a nested type cannot be read without wrapping: an error names it.
func int96Fields(fr *pqarrow.FileReader) (map[int]bool, error) {
	sch := fr.ParquetReader().MetaData().Schema
	out := map[int]bool{}
	var walk func(sf pqarrow.SchemaField, top int, nested bool) error
	walk = func(sf pqarrow.SchemaField, top int, nested bool) error {
		if len(sf.Children) == 0 {
			if sf.IsLeaf() && sch.Column(sf.ColIndex).PhysicalType() == parquet.Types.Int96 {
				if nested {
					return fmt.Errorf("column %q: INT96 timestamps inside a nested type are not supported (they would wrap outside 1677-2262)", sch.Column(sf.ColIndex).Path())
				}
				out[top] = true
			}
			return nil
		}
		for _, c := range sf.Children {
			if err := walk(c, top, true); err != nil {
				return err
			}
		}
		return nil
	}
	for i, sf := range fr.Manifest.Fields {
		if err := walk(sf, i, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// withInt96Micros returns sc with the INT96 fields typed timestamp[us, UTC].
func withInt96Micros(sc *arrow.Schema, int96 map[int]bool) *arrow.Schema {
	if len(int96) == 0 {
		return sc
	}
	fields := sc.Fields()
	for i := range int96 {
		fields[i].Type = int96Type
	}
	md := sc.Metadata()
	return arrow.NewSchema(fields, &md)
}

// int96Micros converts as Spark's reader does (DateTimeUtils.fromJulianDay):
// the Julian day as a signed 32-bit integer, the nanoseconds as a signed
// 64-bit one, (day - epoch) × micros per day + nanoseconds / 1000 with the
// division truncating towards zero. Nanoseconds outside one day (negative,
// or a day or more) are not refused: Spark and pyarrow (Arrow C++'s
// Int96GetNanoSeconds) both add them as they are. Only a result beyond the
// int64 microseconds is an error (Spark would overflow silently).
func int96Micros(v parquet.Int96) (int64, error) {
	nanos := int64(binary.LittleEndian.Uint64(v[:8]))
	julian := int64(int32(binary.LittleEndian.Uint32(v[8:])))
	days := julian - julianUnixEpoch
	add := nanos / 1000
	if days > maxDaysFromEpoch || days < -maxDaysFromEpoch {
		return 0, fmt.Errorf("INT96 timestamp out of range (Julian day %d, %d ns)", julian, nanos)
	}
	base := days * microsPerDay
	if (add > 0 && base > math.MaxInt64-add) || (add < 0 && base < math.MinInt64-add) {
		return 0, fmt.Errorf("INT96 timestamp out of range (Julian day %d, %d ns)", julian, nanos)
	}
	return base + add, nil
}

// int96Reader reads one top-level INT96 column across row groups with
// arrow-go's low-level column reader, on the calling goroutine.
type int96Reader struct {
	pf     *file.Reader
	col    int
	rg     int
	cr     *file.Int96ColumnChunkReader
	field  arrow.Field
	maxDef int16
	vals   []parquet.Int96
	defs   []int16
}

func newInt96Reader(pf *file.Reader, col int, field arrow.Field) *int96Reader {
	field.Type = int96Type
	return &int96Reader{pf: pf, col: col, rg: -1, field: field, maxDef: pf.MetaData().Schema.Column(col).MaxDefinitionLevel()}
}

func (r *int96Reader) Field() *arrow.Field { return &r.field }

func (r *int96Reader) Release() {}

// NextBatch reads up to n rows; fewer only at the end of the column.
func (r *int96Reader) NextBatch(n int64) (*arrow.Chunked, error) {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, int96Type.(*arrow.TimestampType))
	defer b.Release()
	for left := n; left > 0; {
		if r.cr == nil || !r.cr.HasNext() {
			if r.rg+1 >= r.pf.NumRowGroups() {
				break
			}
			r.rg++
			cr, err := r.pf.RowGroup(r.rg).Column(r.col)
			if err != nil {
				return nil, err
			}
			i96, ok := cr.(*file.Int96ColumnChunkReader)
			if !ok {
				return nil, fmt.Errorf("row group %d: column %d is %T, not INT96", r.rg, r.col, cr)
			}
			r.cr = i96
			continue
		}
		k := min(left, 4096)
		if int64(len(r.vals)) < k {
			r.vals, r.defs = make([]parquet.Int96, k), make([]int16, k)
		}
		levels, nvals, err := r.cr.ReadBatch(k, r.vals[:k], r.defs[:k], nil)
		if err != nil {
			return nil, err
		}
		if levels == 0 {
			r.cr = nil // this row group's chunk is exhausted
			continue
		}
		vi := 0
		for i := int64(0); i < levels; i++ {
			if r.maxDef > 0 && r.defs[i] < r.maxDef {
				b.AppendNull()
				continue
			}
			if vi >= nvals {
				return nil, fmt.Errorf("row group %d: fewer INT96 values than definition levels", r.rg)
			}
			us, err := int96Micros(r.vals[vi])
			vi++
			if err != nil {
				return nil, err
			}
			b.Append(arrow.Timestamp(us))
		}
		left -= levels
	}
	arr := b.NewArray()
	defer arr.Release()
	return arrow.NewChunked(int96Type, []arrow.Array{arr}), nil
}
