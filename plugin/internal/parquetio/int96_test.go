package parquetio

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// nullTime marks a null in int96File's input (0001-01-01 is a value to test).
var nullTime = time.Unix(0, 1)

// toInt96 encodes t as Spark does: nanoseconds of the day, then Julian day.
func toInt96(t time.Time) parquet.Int96 {
	us := t.Unix()*1_000_000 + int64(t.Nanosecond()/1000)
	days := us / microsPerDay
	if us%microsPerDay < 0 {
		days--
	}
	var v parquet.Int96
	binary.LittleEndian.PutUint64(v[:8], uint64((us-days*microsPerDay)*1000))
	binary.LittleEndian.PutUint32(v[8:], uint32(days+julianUnixEpoch))
	return v
}

// int96File writes id INT64 and an optional INT96 ts column, as Spark,
// Impala and Hive do, in row groups of rowGroup rows; nullTime is a null.
func int96File(t testing.TB, ts []time.Time, rowGroup int) []byte {
	t.Helper()
	id, _ := schema.NewPrimitiveNode("id", parquet.Repetitions.Required, parquet.Types.Int64, -1, -1)
	tsNode, _ := schema.NewPrimitiveNode("ts", parquet.Repetitions.Optional, parquet.Types.Int96, -1, -1)
	root, err := schema.NewGroupNode("spark_schema", parquet.Repetitions.Required, schema.FieldList{id, tsNode}, -1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := file.NewParquetWriter(&buf, root)
	for start := 0; start < len(ts); start += rowGroup {
		end := min(start+rowGroup, len(ts))
		rg := w.AppendRowGroup()
		cw, _ := rg.NextColumn()
		ids := make([]int64, 0, end-start)
		for i := start; i < end; i++ {
			ids = append(ids, int64(i))
		}
		if _, err := cw.(*file.Int64ColumnChunkWriter).WriteBatch(ids, nil, nil); err != nil {
			t.Fatal(err)
		}
		_ = cw.Close()
		cw, _ = rg.NextColumn()
		var vals []parquet.Int96
		var defs []int16
		for _, v := range ts[start:end] {
			if v.Equal(nullTime) {
				defs = append(defs, 0)
				continue
			}
			defs = append(defs, 1)
			vals = append(vals, toInt96(v))
		}
		if _, err := cw.(*file.Int96ColumnChunkWriter).WriteBatch(vals, defs, nil); err != nil {
			t.Fatal(err)
		}
		_ = cw.Close()
		_ = rg.Close()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Class 5: INT96 outside 1677-2262 wrapped silently through nanoseconds.
// Read at microsecond precision, Spark's convention, the values are exact.
func TestInt96ReadAtMicroseconds(t *testing.T) {
	want := []time.Time{
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC), // Spark's "end of time"
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		nullTime,
		time.Date(2024, 5, 6, 7, 8, 9, 123_456_000, time.UTC),
		time.Date(1677, 9, 21, 0, 12, 43, 145_224_000, time.UTC).Add(-time.Microsecond), // just below the ns range
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Microsecond),
	}
	data := int96File(t, want, 4)
	obj := Object{Bucket: "b", Key: "spark/part-0.parquet", Size: int64(len(data))}
	sc, _, err := Schema(context.Background(), &memGetter{data: data}, obj)
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Field(1).Type.String(); got != "timestamp[us, tz=UTC]" {
		t.Fatalf("ts type %s", got)
	}
	var got []string
	rows, err := ReadBatches(context.Background(), &memGetter{data: data}, obj, ReadOptions{BatchRows: 3},
		func(s *arrow.Schema) error {
			if !arrow.TypeEqual(s.Field(1).Type, int96Type) {
				t.Errorf("schema passed to check: %s", s)
			}
			return nil
		},
		func(rec arrow.RecordBatch) error {
			col := rec.Column(1).(*array.Timestamp)
			for i := 0; i < col.Len(); i++ {
				if col.IsNull(i) {
					got = append(got, "null")
					continue
				}
				got = append(got, time.UnixMicro(int64(col.Value(i))).UTC().Format(time.RFC3339Nano))
			}
			return nil
		})
	if err != nil || rows != 6 {
		t.Fatalf("rows %d, err %v", rows, err)
	}
	exp := "9999-12-31T23:59:59.999999Z 0001-01-01T00:00:00Z null 2024-05-06T07:08:09.123456Z 1677-09-21T00:12:43.145223Z 1969-12-31T23:59:59.999999Z"
	if strings.Join(got, " ") != exp {
		t.Fatalf("values\n got %s\nwant %s", strings.Join(got, " "), exp)
	}
}

// INT96 values as Spark reads them (the reference, DateTimeUtils.fromJulianDay),
// including the nanoseconds of day outside [0, 1 day) that Spark and pyarrow
// both add as they are; only a result beyond int64 microseconds is refused.
func TestInt96AsSparkReadsIt(t *testing.T) {
	mk := func(julian uint32, nanos int64) parquet.Int96 {
		var v parquet.Int96
		binary.LittleEndian.PutUint64(v[:8], uint64(nanos))
		binary.LittleEndian.PutUint32(v[8:], julian)
		return v
	}
	for _, tt := range []struct {
		name    string
		v       parquet.Int96
		want    int64
		wantErr string
	}{
		{"epoch", mk(julianUnixEpoch, 0), 0, ""},
		{"noon, sub-microsecond truncated", mk(julianUnixEpoch, 43_200_000_000_999), 43_200_000_000, ""},
		{"negative nanoseconds of day (pyarrow reads it)", mk(julianUnixEpoch, -1_500), -1, ""},
		{"negative nanoseconds truncate towards zero, as Java's division", mk(julianUnixEpoch+1, -999), microsPerDay, ""},
		{"nanoseconds past the day roll into the next", mk(julianUnixEpoch, 86_400_000_000_000+7_000), microsPerDay + 7, ""},
		{"Julian day read as a signed int32, as Spark's getInt", mk(0xffffffff, 0), (-1 - julianUnixEpoch) * microsPerDay, ""},
		{"past int64 microseconds", mk(0x7fffffff, 0), 0, "INT96 timestamp out of range (Julian day 2147483647"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := int96Micros(tt.v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}
