package drift

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"
	"github.com/cloudquery/plugin-sdk/v4/types"
)

// Extension types the Parquet reader produces, and what a table declares for
// them: the CloudQuery type destinations know, where there is one.
//
//   - arrow.uuid (Parquet UUID)                     → CloudQuery uuid (same 16-byte storage)
//   - arrow.json (a stored Arrow schema's JSON)     → CloudQuery json (storage string → binary)
//   - parquet.variant (Parquet VARIANT, shredded or → CloudQuery json: each value rendered as
//     not)                                            JSON, shredded fields reassembled
//   - arrow.bool8                                   → boolean
//   - CloudQuery's own (uuid, json, inet, mac)      → kept
//   - anything else (opaque, unregistered)          → its storage type, normalised
const (
	arrowUUID  = "arrow.uuid"
	arrowJSON  = "arrow.json"
	arrowBool8 = "arrow.bool8"
	// Parquet VARIANT: arrow-go ≥ 18.6 names it arrow.parquet.variant, before
	// that parquet.variant (still registered by later versions for old IPC).
	parquetVariant       = "arrow.parquet.variant"
	legacyParquetVariant = "parquet.variant"
)

// extensionTarget is the table type of an extension type, and false when the
// extension has no meaning of its own here (its storage type stands in).
func extensionTarget(t arrow.ExtensionType) (arrow.DataType, bool) {
	switch t.ExtensionName() {
	case arrowUUID:
		return types.ExtensionTypes.UUID, true
	case arrowJSON, parquetVariant, legacyParquetVariant:
		return types.ExtensionTypes.JSON, true
	case arrowBool8:
		return arrow.FixedWidthTypes.Boolean, true
	}
	for _, cq := range []arrow.ExtensionType{types.ExtensionTypes.UUID, types.ExtensionTypes.JSON, types.ExtensionTypes.Inet, types.ExtensionTypes.MAC} {
		if arrow.TypeEqual(t, cq) {
			return t, true
		}
	}
	return nil, false
}

func normalizeExtension(t arrow.ExtensionType) arrow.DataType {
	if to, ok := extensionTarget(t); ok {
		return to
	}
	return Normalize(t.StorageType())
}

func checkExtension(path string, table arrow.DataType, file arrow.ExtensionType) error {
	to, ok := extensionTarget(file)
	if !ok {
		return Check(path, table, file.StorageType())
	}
	if !arrow.TypeEqual(table, to) {
		return &Mismatch{Path: path, Table: table, File: file}
	}
	return nil
}

// conformExtension converts d (of extension type from) to the table type to,
// which checkExtension accepted.
func conformExtension(mem memory.Allocator, path string, d arrow.ArrayData, from arrow.ExtensionType, to arrow.DataType) (arrow.ArrayData, error) {
	storage := relabel(d, from.StorageType(), d.Children())
	defer storage.Release()
	switch from.ExtensionName() {
	case arrowUUID:
		return relabel(d, to, d.Children()), nil
	case arrowJSON:
		// To utf8 first (large and view strings too); binary has its layout.
		str, err := conform(mem, path, storage, arrow.BinaryTypes.String)
		if err != nil {
			return nil, err
		}
		defer str.Release()
		return relabel(str, to, nil), nil
	case parquetVariant, legacyParquetVariant:
		return variantJSON(mem, path, d, to)
	case arrowBool8:
		out, err := cast(mem, storage, arrow.FixedWidthTypes.Boolean)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q: %w", ErrValue, path, err)
		}
		return out, nil
	}
	if arrow.TypeEqual(from, to) {
		return relabel(d, to, d.Children()), nil
	}
	return conform(mem, path, storage, to)
}

// ErrVariant marks a VARIANT value whose bytes do not decode.
var ErrVariant = errors.New("invalid variant value")

// variantJSON renders each value of a VARIANT array (arrow-go reassembles
// shredded values) as JSON text in an array of type to (CloudQuery json,
// binary storage). Values that do not decode fail the whole array, naming the
// column and row: arrow-go asserts rather than checks some variant offsets,
// so a panic is recovered as that error too.
func variantJSON(mem memory.Allocator, path string, d arrow.ArrayData, to arrow.DataType) (out arrow.ArrayData, err error) {
	arr, ok := array.MakeFromData(d).(*extensions.VariantArray)
	if !ok {
		return nil, fmt.Errorf("%w: column %q: not a variant array", ErrVariant, path)
	}
	defer arr.Release()
	b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	defer b.Release()
	row := 0
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: column %q, row %d: %v", ErrVariant, path, row, r)
		}
	}()
	b.Reserve(arr.Len())
	var text []byte
	for ; row < arr.Len(); row++ {
		if arr.IsNull(row) {
			b.AppendNull()
			continue
		}
		var v variant.Value
		v, err = arr.Value(row)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q, row %d: %w", ErrVariant, path, row, err)
		}
		text, err = appendVariantJSON(text[:0], v)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q, row %d: %w", ErrVariant, path, row, err)
		}
		b.Append(text)
	}
	bin := b.NewArray()
	defer bin.Release()
	return relabel(bin.Data(), to, nil), nil
}

// decodesValues reports whether conforming type t reads the bytes of each
// value (a VARIANT, here or nested in a struct), so that the slots under a
// null parent struct, which hold no value (empty metadata), must be null.
func decodesValues(t arrow.DataType) bool {
	switch t := t.(type) {
	case arrow.ExtensionType:
		return t.ExtensionName() == parquetVariant || t.ExtensionName() == legacyParquetVariant || decodesValues(t.StorageType())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if decodesValues(f.Type) {
				return true
			}
		}
	}
	return false
}

// maskedByParent returns child (a field of the struct parent, indexed like
// the parent's physical rows) with every row whose parent is null set null.
// Arrow leaves a child's slot under a null struct unspecified; Parquet readers
// fill it with empty values.
func maskedByParent(mem memory.Allocator, parent, child arrow.ArrayData) arrow.ArrayData {
	pbits := parent.Buffers()[0].Bytes()
	n := child.Offset() + child.Len()
	bits := memory.NewResizableBuffer(mem)
	defer bits.Release()
	bits.Resize(int(bitutil.BytesForBits(int64(n))))
	out := bits.Bytes()
	var cbits []byte
	if b := child.Buffers()[0]; b != nil {
		cbits = b.Bytes()
	}
	nulls := 0
	for j := 0; j < child.Len(); j++ {
		valid := cbits == nil || bitutil.BitIsSet(cbits, child.Offset()+j)
		// Child row j sits under the parent's physical row j.
		if j >= parent.Offset() && j < parent.Offset()+parent.Len() && !bitutil.BitIsSet(pbits, j) {
			valid = false
		}
		bitutil.SetBitTo(out, child.Offset()+j, valid)
		if !valid {
			nulls++
		}
	}
	buffers := append([]*memory.Buffer{bits}, child.Buffers()[1:]...)
	masked := array.NewData(child.DataType(), child.Len(), buffers, child.Children(), nulls, child.Offset())
	if dict, ok := child.Dictionary().(*array.Data); ok && dict != nil {
		masked.SetDictionary(dict)
	}
	return masked
}
