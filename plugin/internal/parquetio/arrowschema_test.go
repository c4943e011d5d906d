package parquetio

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// storedSchemaFile has a large_utf8 and a timestamp[ms, America/New_York]
// column, the Arrow schema stored, and edit applied to the decoded IPC
// message of that schema.
func storedSchemaFile(t *testing.T, edit func(msg []byte)) []byte {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "America/New_York"}, Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, sc, strings.NewReader(
		`[{"s":"a","ts":"2024-01-01T00:00:00Z"},{"s":null,"ts":null},{"s":"ccc","ts":"1970-01-01T00:00:00.001Z"}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	return parquettest.Rewrite(t, parquettest.WriteStored(t, rec, 10, nil), func(n int) int { return n }, func(md *metadata.FileMetaData) {
		for _, kv := range md.FileMetaData.KeyValueMetadata {
			if kv.Key != arrowSchemaKey {
				continue
			}
			buf, err := base64.StdEncoding.DecodeString(*kv.Value)
			if err != nil {
				t.Fatal(err)
			}
			edit(buf[8:]) // after the continuation marker and length
			v := base64.StdEncoding.EncodeToString(buf)
			kv.Value = &v
			return
		}
		t.Fatal("no stored Arrow schema")
	})
}

// schemaFieldsLength locates the length of the Schema's fields vector in an
// IPC Schema message.
func schemaFieldsLength(msg []byte) int {
	m := &flatbuffers.Table{Bytes: msg, Pos: flatbuffers.GetUOffsetT(msg)}
	s := &flatbuffers.Table{Bytes: msg, Pos: m.Indirect(flatbuffers.UOffsetT(m.Offset(8)) + m.Pos)}
	o := flatbuffers.UOffsetT(s.Offset(6)) + s.Pos
	return int(o + s.GetUOffsetT(o))
}

// Found by fuzzing: a stored Arrow schema whose fields vector claims 2^31-1
// entries made arrow-go allocate about 190 GB while opening the file: a
// fatal "runtime: out of memory" that no recover catches, ending the whole
// process (the fuzzer's "process hung or terminated unexpectedly"). Now the
// damaged schema is dropped with a note and the rows are read as the Parquet
// schema says (large_utf8 and the zone are Arrow-only: utf8, UTC).
func TestDamagedStoredArrowSchemaIsIgnored(t *testing.T) {
	data := storedSchemaFile(t, func(msg []byte) {
		binary.LittleEndian.PutUint32(msg[schemaFieldsLength(msg):], 1<<31-1)
	})
	obj := Object{Bucket: "b", Key: "k", Size: int64(len(data))}
	sc, notes, err := Schema(context.Background(), &memGetter{data: data}, obj)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "ignoring the Arrow schema stored in the footer (ARROW:schema): vector of 2147483647 elements") {
		t.Errorf("notes %q", notes)
	}
	if got := sc.String(); !strings.Contains(got, "s: type=utf8") || !strings.Contains(got, "ts: type=timestamp[ms, tz=UTC]") {
		t.Errorf("schema %s", got)
	}
	rows, err := readJSON(t, data)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"s":"a","ts":"2024-01-01T00:00:00Z"}` + "\n" + `{"s":null,"ts":null}` + "\n" + `{"s":"ccc","ts":"1970-01-01T00:00:00.001Z"}`
	if got := strings.Join(rows, "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestCheckIPCSchema(t *testing.T) {
	valid := storedSchemaFile(t, func([]byte) {})
	_, md := parquettest.Split(t, valid)
	value := md.KeyValueMetadata().FindValue(arrowSchemaKey)
	if value == nil {
		t.Fatal("no stored schema")
	}
	if err := checkIPCSchema(*value); err != nil {
		t.Fatalf("valid schema refused: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(*value)
	for _, tt := range []struct {
		name string
		edit func([]byte) []byte
		want string
	}{
		{"empty", func(b []byte) []byte { return nil }, "0 bytes"},
		{"message longer than the bytes", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 1<<30); return b }, "message length 1073741824"},
		{"negative message length", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 0x80000000); return b }, "message length -2147483648"},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "message length"},
		{"fields vector too long", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[8+schemaFieldsLength(b[8:]):], 1<<20)
			return b
		}, "vector of 1048576 elements"},
		{"root table outside", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 1<<20); return b }, "corrupt flatbuffer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.edit(append([]byte(nil), raw...))
			err := checkIPCSchema(base64.StdEncoding.EncodeToString(b))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if err := checkIPCSchema("%%%"); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Fatalf("err = %v", err)
	}
}
