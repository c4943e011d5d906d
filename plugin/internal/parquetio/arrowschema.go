package parquetio

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/metadata"
	flatbuffers "github.com/google/flatbuffers/go"
)

// arrowSchemaKey is the footer key under which Arrow writers (pyarrow by
// default) store the Arrow schema: a base64 IPC Schema message.
const arrowSchemaKey = "ARROW:schema"

// vetStoredSchema checks the stored Arrow schema before pqarrow decodes it,
// and drops it from md (with a note; the columns are then read from the
// Parquet schema alone) when it is damaged.
//
// Found by fuzzing: arrow-go's IPC reader allocates the lengths the message
// states before checking them against its bytes (the body length, an int64,
// and the field, child and metadata vector lengths of the flatbuffer), and a
// failed allocation of tens of GiB is a fatal runtime error, not a panic: a
// few flipped bytes in one object's footer ended the whole process. Here the
// framing and every length arrow-go allocates from must fit in the message,
// and the field tree may not be larger than the message itself (flatbuffer
// tables can be shared, so a tree can be exponentially larger than its
// bytes).
func vetStoredSchema(md *metadata.FileMetaData) (note string) {
	kvs := md.FileMetaData.KeyValueMetadata
	for i, kv := range kvs {
		if kv == nil || kv.Key != arrowSchemaKey || kv.Value == nil {
			continue
		}
		err := checkIPCSchema(*kv.Value)
		if err == nil {
			return ""
		}
		rest := append(kvs[:i:i], kvs[i+1:]...)
		md.FileMetaData.KeyValueMetadata = rest
		return fmt.Sprintf("ignoring the Arrow schema stored in the footer (%s): %v; columns are read as the Parquet schema says", arrowSchemaKey, err)
	}
	return ""
}

// checkIPCSchema decodes value as pqarrow does and checks the message.
func checkIPCSchema(value string) (err error) {
	var buf []byte
	if len(value)%4 == 0 {
		buf, err = base64.StdEncoding.DecodeString(value)
	}
	if len(buf) == 0 || err != nil {
		if buf, err = base64.RawStdEncoding.DecodeString(value); err != nil {
			return fmt.Errorf("not base64: %w", err)
		}
	}
	// The flatbuffer accessors panic on an offset outside the buffer.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt flatbuffer: %v", r)
		}
	}()
	if len(buf) < 8 {
		return fmt.Errorf("%d bytes", len(buf))
	}
	off, msgLen := 4, int64(int32(binary.LittleEndian.Uint32(buf)))
	if binary.LittleEndian.Uint32(buf) == 0xFFFFFFFF { // continuation marker
		off, msgLen = 8, int64(int32(binary.LittleEndian.Uint32(buf[4:])))
	}
	if msgLen <= 0 || msgLen > int64(len(buf)-off) {
		return fmt.Errorf("message length %d in %d bytes", msgLen, len(buf))
	}
	msg := buf[off : off+int(msgLen)]
	body := int64(len(buf) - off - int(msgLen))
	m := table(msg, flatbuffers.GetUOffsetT(msg))
	// Message: version, header_type, header, bodyLength, custom_metadata.
	if n := m.GetInt64Slot(10, 0); n < 0 || n > body {
		return fmt.Errorf("body length %d, %d bytes left", n, body)
	}
	if err := vector(m, 12); err != nil {
		return err
	}
	o := m.Offset(8)
	if m.GetUint8Slot(6, 0) != 1 || o == 0 { // MessageHeader.Schema
		return errors.New("not a schema message")
	}
	s := table(msg, m.Indirect(flatbuffers.UOffsetT(o)+m.Pos))
	// Schema: endianness, fields, custom_metadata, features.
	if err := vector(s, 8); err != nil {
		return err
	}
	budget := len(msg) / 4
	return fields(s, 6, &budget, 0)
}

func table(buf []byte, pos flatbuffers.UOffsetT) *flatbuffers.Table {
	if int(pos) >= len(buf) {
		panic(fmt.Sprintf("table at %d of %d bytes", pos, len(buf)))
	}
	return &flatbuffers.Table{Bytes: buf, Pos: pos}
}

// vector checks that the vector of 4-byte elements (offsets) in slot fits in
// the buffer.
func vector(t *flatbuffers.Table, slot flatbuffers.VOffsetT) error {
	o := t.Offset(slot)
	if o == 0 {
		return nil
	}
	n := t.VectorLen(flatbuffers.UOffsetT(o))
	start := int(t.Vector(flatbuffers.UOffsetT(o)))
	if n < 0 || start < 0 || start > len(t.Bytes) || n > (len(t.Bytes)-start)/4 {
		return fmt.Errorf("vector of %d elements at %d in %d bytes", n, start, len(t.Bytes))
	}
	return nil
}

// fields checks the vector of Field tables in slot and each field's
// children (Field: name, nullable, type_type, type, dictionary, children,
// custom_metadata), spending budget per field.
func fields(t *flatbuffers.Table, slot flatbuffers.VOffsetT, budget *int, depth int) error {
	if depth > 64 {
		return errors.New("fields nested more than 64 deep")
	}
	if err := vector(t, slot); err != nil {
		return err
	}
	o := t.Offset(slot)
	if o == 0 {
		return nil
	}
	n := t.VectorLen(flatbuffers.UOffsetT(o))
	start := t.Vector(flatbuffers.UOffsetT(o))
	for i := 0; i < n; i++ {
		if *budget--; *budget < 0 {
			return errors.New("more fields than the message can hold")
		}
		pos := start + flatbuffers.UOffsetT(i*4)
		f := table(t.Bytes, t.Indirect(pos))
		if err := vector(f, 16); err != nil {
			return err
		}
		if err := fields(f, 14, budget, depth+1); err != nil {
			return err
		}
	}
	return nil
}
