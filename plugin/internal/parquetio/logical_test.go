package parquetio

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// geoFile has id INT64 and geom BYTE_ARRAY annotated with the logical type
// member named member (e.g. GEOMETRY), as newer writers produce.
func geoFile(t testing.TB, member string) []byte {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "geom", Type: arrow.BinaryTypes.Binary, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := 0; i < 3; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.BinaryBuilder).Append([]byte(fmt.Sprintf("wkb-%d", i)))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	region, md := parquettest.Split(t, parquettest.WriteRecord(t, rec, 1024))
	// The Thrift types live in an internal package of arrow-go: set the field by reflection.
	el := reflect.ValueOf(md.FileMetaData.Schema[2]).Elem()
	lt := reflect.New(el.FieldByName("LogicalType").Type().Elem())
	m := lt.Elem().FieldByName(member)
	m.Set(reflect.New(m.Type().Elem()))
	el.FieldByName("LogicalType").Set(lt)
	return parquettest.Join(t, region, md)
}

// Compatibility item 7: a logical type arrow-go cannot read made the footer
// panic ("invalid logical type") and the whole table vanish at discovery. The
// column now falls back to its physical type, with a note.
func TestUnknownLogicalTypeFallsBackToPhysical(t *testing.T) {
	for _, tt := range []struct{ member, note string }{
		{"GEOMETRY", `column "geom": GEOMETRY is not supported; read as its physical type`},
		{"GEOGRAPHY", `column "geom": GEOGRAPHY is not supported; read as its physical type`},
		{"unknown", `column "geom": unknown logical type #19 is not supported; read as its physical type`},
	} {
		t.Run(tt.member, func(t *testing.T) {
			var data []byte
			if tt.member == "unknown" {
				// A member newer than this build: GEOMETRY's id (17) rewritten to 19.
				data = geoFile(t, "GEOMETRY")
				at := bytes.LastIndex(data, []byte{0x0c, 0x22, 0x00, 0x00}) // struct field 17, empty, end of union
				if at < 0 {
					t.Fatal("GEOMETRY member not found in the footer")
				}
				data[at+1] = 0x26 // zigzag(19)
			} else {
				data = geoFile(t, tt.member)
			}
			if r := arrowGoDecodePanic(data); !strings.Contains(fmt.Sprint(r), "invalid logical type") {
				t.Logf("arrow-go alone no longer panics on this footer (%v)", r)
			}
			obj := Object{Bucket: "b", Key: "geo/x.parquet", Size: int64(len(data))}
			sc, notes, err := Schema(context.Background(), &memGetter{data: data}, obj)
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.Field(1).Type.String(); got != "binary" || fmt.Sprint(notes) != "["+tt.note+"]" {
				t.Fatalf("geom type %s, notes %q", got, notes)
			}
			var got []string
			rows, err := ReadBatches(context.Background(), &memGetter{data: data}, obj, ReadOptions{BatchRows: 10},
				func(*arrow.Schema) error { return nil },
				func(rec arrow.RecordBatch) error {
					col := rec.Column(1).(*array.Binary)
					for i := 0; i < col.Len(); i++ {
						got = append(got, string(col.Value(i)))
					}
					return nil
				})
			if err != nil || rows != 3 || strings.Join(got, ",") != "wkb-0,wkb-1,wkb-2" {
				t.Fatalf("rows %d, values %v, err %v", rows, got, err)
			}
		})
	}
}

// arrowGoDecodePanic decodes the footer with arrow-go alone and returns its panic.
func arrowGoDecodePanic(data []byte) (r any) {
	defer func() { r = recover() }()
	_, _ = metadata.NewFileMetaData(data[len(data)-8-footerLen(data):len(data)-8], nil)
	return nil
}

func footerLen(data []byte) int {
	return int(data[len(data)-8]) | int(data[len(data)-7])<<8 | int(data[len(data)-6])<<16 | int(data[len(data)-5])<<24
}
