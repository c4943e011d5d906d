// Package drift unifies the Arrow types that the Parquet files of one table
// come out with when their writers differ: dictionary or plain strings,
// 32- or 64-bit offsets, timestamp units and time zones, nullability and
// metadata of nested fields. A table declares a normalised type per column
// (Normalize); a file's column is accepted when its values convert to it
// without changing their meaning (Check), and each record is converted
// (Conform). Any other difference is a real incompatibility, reported with
// the path of the first differing field.
package drift

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Timestamp is the one timestamp type of every table: microseconds since the
// epoch, UTC (CloudQuery's own timestamp type, and the precision INT96 is read
// at). Every unit from seconds to nanoseconds converts to it; only
// nanoseconds lose digits.
var Timestamp = arrow.FixedWidthTypes.Timestamp_us

// Normalize returns the type a table declares for a column first seen with
// type t: dictionaries decoded, string and binary with 32-bit offsets, lists
// with 32-bit offsets, timestamps in microseconds UTC, and every nested field
// (list element, struct field, map value) nullable and without metadata. List
// elements are named "item". Extension types become the CloudQuery type for
// them (see extension.go). Other types are kept as they are.
func Normalize(t arrow.DataType) arrow.DataType {
	switch t := t.(type) {
	case *arrow.DictionaryType:
		return Normalize(t.ValueType)
	case *arrow.LargeStringType, *arrow.StringViewType:
		return arrow.BinaryTypes.String
	case *arrow.LargeBinaryType, *arrow.BinaryViewType:
		return arrow.BinaryTypes.Binary
	case *arrow.TimestampType:
		return Timestamp
	case *arrow.ListType:
		return arrow.ListOf(Normalize(t.Elem()))
	case *arrow.LargeListType:
		return arrow.ListOf(Normalize(t.Elem()))
	case *arrow.FixedSizeListType:
		return arrow.FixedSizeListOf(t.Len(), Normalize(t.Elem()))
	case *arrow.MapType:
		return arrow.MapOf(Normalize(t.KeyType()), Normalize(t.ItemType()))
	case *arrow.StructType:
		fields := make([]arrow.Field, t.NumFields())
		for i, f := range t.Fields() {
			fields[i] = arrow.Field{Name: f.Name, Type: Normalize(f.Type), Nullable: true}
		}
		return arrow.StructOf(fields...)
	case arrow.ExtensionType:
		return normalizeExtension(t)
	default:
		return t
	}
}

// Mismatch is a real incompatibility between a table's column type and a
// file's: Path names the field ("s.k" for a struct field, "l[]" for a list
// element, "m.key"/"m.value" for a map's), Table and File the types there.
type Mismatch struct {
	Path        string
	Table, File arrow.DataType
	// Reason, when set, replaces the types in the message (a struct field
	// renamed, added or removed).
	Reason string
}

func (m *Mismatch) Error() string {
	if m.Reason != "" {
		return fmt.Sprintf("column %q: %s", m.Path, m.Reason)
	}
	return fmt.Sprintf("column %q is %s in the table but %s in the file", m.Path, m.Table, m.File)
}

// Check reports why values of a file's column (type file) cannot be stored
// in a table's column (type table) at path, as a *Mismatch; nil means
// Conform converts them.
func Check(path string, table, file arrow.DataType) error {
	for {
		d, ok := file.(*arrow.DictionaryType)
		if !ok {
			break
		}
		file = d.ValueType
	}
	if ext, ok := file.(arrow.ExtensionType); ok && !arrow.TypeEqual(table, file) {
		return checkExtension(path, table, ext)
	}
	bad := &Mismatch{Path: path, Table: table, File: file}
	switch tt := table.(type) {
	case *arrow.StringType:
		if !isID(file, arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW) {
			return bad
		}
	case *arrow.BinaryType:
		if !isID(file, arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW) {
			return bad
		}
	case *arrow.TimestampType:
		if file.ID() != arrow.TIMESTAMP {
			return bad
		}
	case *arrow.ListType:
		var elem arrow.DataType
		switch ft := file.(type) {
		case *arrow.ListType:
			elem = ft.Elem()
		case *arrow.LargeListType:
			elem = ft.Elem()
		default:
			return bad
		}
		return Check(path+"[]", tt.Elem(), elem)
	case *arrow.FixedSizeListType:
		ft, ok := file.(*arrow.FixedSizeListType)
		if !ok || ft.Len() != tt.Len() {
			return bad
		}
		return Check(path+"[]", tt.Elem(), ft.Elem())
	case *arrow.MapType:
		ft, ok := file.(*arrow.MapType)
		if !ok {
			return bad
		}
		if err := Check(path+".key", tt.KeyType(), ft.KeyType()); err != nil {
			return err
		}
		return Check(path+".value", tt.ItemType(), ft.ItemType())
	case *arrow.StructType:
		ft, ok := file.(*arrow.StructType)
		if !ok {
			return bad
		}
		for i := 0; i < max(tt.NumFields(), ft.NumFields()); i++ {
			switch {
			case i >= ft.NumFields():
				return &Mismatch{Path: path, Reason: fmt.Sprintf("field %q of the table is missing in the file", tt.Field(i).Name)}
			case i >= tt.NumFields():
				return &Mismatch{Path: path, Reason: fmt.Sprintf("field %q of the file is not in the table", ft.Field(i).Name)}
			case tt.Field(i).Name != ft.Field(i).Name:
				return &Mismatch{Path: path, Reason: fmt.Sprintf("field %d is %q in the table but %q in the file", i, tt.Field(i).Name, ft.Field(i).Name)}
			}
			if err := Check(path+"."+tt.Field(i).Name, tt.Field(i).Type, ft.Field(i).Type); err != nil {
				return err
			}
		}
	default:
		if !arrow.TypeEqual(table, file) {
			return bad
		}
	}
	return nil
}

func isID(t arrow.DataType, ids ...arrow.Type) bool {
	for _, id := range ids {
		if t.ID() == id {
			return true
		}
	}
	return false
}

// ErrValue marks a value that does not fit the table's type (a timestamp
// beyond the microsecond range, a list too long for 32-bit offsets).
var ErrValue = errors.New("value does not fit the table's type")

// Conform converts arr to type to, which Check accepted for arr's type, at
// path (for messages). The result has arr's length and values; the caller
// releases it.
func Conform(mem memory.Allocator, path string, arr arrow.Array, to arrow.DataType) (arrow.Array, error) {
	d, err := conform(mem, path, arr.Data(), to)
	if err != nil {
		return nil, err
	}
	defer d.Release()
	return array.MakeFromData(d), nil
}

func conform(mem memory.Allocator, path string, d arrow.ArrayData, to arrow.DataType) (arrow.ArrayData, error) {
	from := d.DataType()
	if dt, ok := from.(*arrow.DictionaryType); ok {
		plain, err := cast(mem, d, dt.ValueType)
		if err != nil {
			return nil, fmt.Errorf("column %q: decode dictionary: %w", path, err)
		}
		defer plain.Release()
		return conform(mem, path, plain, to)
	}
	if err := Check(path, to, from); err != nil {
		return nil, err
	}
	if ext, ok := from.(arrow.ExtensionType); ok && !arrow.TypeEqual(from, to) {
		return conformExtension(mem, path, d, ext, to)
	}
	switch to := to.(type) {
	case *arrow.StringType, *arrow.BinaryType:
		if from.ID() == to.ID() {
			return relabel(d, to, d.Children()), nil
		}
		if from.ID() == arrow.STRING_VIEW || from.ID() == arrow.BINARY_VIEW {
			return fromView(mem, path, d, to)
		}
		out, err := cast(mem, d, to)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q: %w", ErrValue, path, err)
		}
		return out, nil
	case *arrow.TimestampType:
		return timestamps(mem, path, d, to)
	case *arrow.ListType:
		child, err := conform(mem, path+"[]", d.Children()[0], to.Elem())
		if err != nil {
			return nil, err
		}
		defer child.Release()
		if from.ID() == arrow.LARGE_LIST {
			return narrowOffsets(mem, path, d, to, child)
		}
		return relabel(d, to, []arrow.ArrayData{child}), nil
	case *arrow.FixedSizeListType:
		child, err := conform(mem, path+"[]", d.Children()[0], to.Elem())
		if err != nil {
			return nil, err
		}
		defer child.Release()
		return relabel(d, to, []arrow.ArrayData{child}), nil
	case *arrow.MapType:
		// The entries struct's own field names vary between writers
		// ("key"/"value", "key_value", "map"): only key and value types count.
		entries := d.Children()[0]
		key, err := conform(mem, path+".key", entries.Children()[0], to.KeyType())
		if err != nil {
			return nil, err
		}
		defer key.Release()
		value, err := conform(mem, path+".value", entries.Children()[1], to.ItemType())
		if err != nil {
			return nil, err
		}
		defer value.Release()
		ent := relabel(entries, to.Elem(), []arrow.ArrayData{key, value})
		defer ent.Release()
		return relabel(d, to, []arrow.ArrayData{ent}), nil
	case *arrow.StructType:
		children := make([]arrow.ArrayData, 0, to.NumFields())
		defer func() {
			for _, c := range children {
				c.Release()
			}
		}()
		for i, f := range to.Fields() {
			child := d.Children()[i]
			if d.NullN() > 0 && decodesValues(child.DataType()) {
				child = maskedByParent(mem, d, child)
				defer child.Release()
			}
			c, err := conform(mem, path+"."+f.Name, child, f.Type)
			if err != nil {
				return nil, err
			}
			children = append(children, c)
		}
		return relabel(d, to, children), nil
	default:
		return relabel(d, to, d.Children()), nil
	}
}

// relabel shares d's buffers under type to, with children in place of d's.
func relabel(d arrow.ArrayData, to arrow.DataType, children []arrow.ArrayData) arrow.ArrayData {
	out := array.NewData(to, d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
	if dict := d.Dictionary(); dict != nil {
		out.SetDictionary(dict)
	}
	return out
}

func cast(mem memory.Allocator, d arrow.ArrayData, to arrow.DataType) (arrow.ArrayData, error) {
	in := array.MakeFromData(d)
	defer in.Release()
	ctx := compute.WithAllocator(context.Background(), mem)
	out, err := compute.CastArray(ctx, in, compute.SafeCastOptions(to))
	if err != nil {
		return nil, err
	}
	defer out.Release()
	data := out.Data()
	data.Retain()
	return data, nil
}

// validity returns d's validity bitmap starting at bit 0 (nil without nulls).
func validity(mem memory.Allocator, d arrow.ArrayData) *memory.Buffer {
	b := d.Buffers()[0]
	if b == nil || d.NullN() == 0 {
		return nil
	}
	if d.Offset() == 0 {
		b.Retain()
		return b
	}
	out := memory.NewResizableBuffer(mem)
	out.Resize(int(bitutil.BytesForBits(int64(d.Len()))))
	bitutil.CopyBitmap(b.Bytes(), d.Offset(), d.Len(), out.Bytes(), 0)
	return out
}

func isValid(valid []byte, i int) bool { return valid == nil || bitutil.BitIsSet(valid, i) }

// unitExp is each unit's power of ten below a second.
var unitExp = map[arrow.TimeUnit]int{arrow.Second: 0, arrow.Millisecond: 3, arrow.Microsecond: 6, arrow.Nanosecond: 9}

// timestamps rescales a timestamp array to unit and zone of to. Arrow stores
// instants as UTC whatever the zone, so a zone change is a relabel; values
// without a zone are taken as UTC. A finer unit is truncated towards the
// earlier instant (floor); a coarser one is multiplied, and a value beyond
// the target's range is ErrValue.
func timestamps(mem memory.Allocator, path string, d arrow.ArrayData, to *arrow.TimestampType) (arrow.ArrayData, error) {
	from := d.DataType().(*arrow.TimestampType)
	n := d.Len()
	if from.Unit == to.Unit || n == 0 {
		return relabel(d, to, nil), nil
	}
	in := arrow.TimestampTraits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+n]
	valid := validity(mem, d)
	var vbits []byte
	if valid != nil {
		defer valid.Release()
		vbits = valid.Bytes()
	}
	values := memory.NewResizableBuffer(mem)
	defer values.Release()
	values.Resize(arrow.TimestampTraits.BytesRequired(n))
	out := arrow.TimestampTraits.CastFromBytes(values.Bytes())
	exp := unitExp[to.Unit] - unitExp[from.Unit]
	f := int64(math.Pow10(max(exp, -exp)))
	for i, v := range in {
		if !isValid(vbits, i) {
			out[i] = 0
			continue
		}
		x := int64(v)
		if exp > 0 {
			if x > math.MaxInt64/f || x < math.MinInt64/f {
				return nil, fmt.Errorf("%w: column %q, row %d: %d %s is out of range for %s", ErrValue, path, i, x, from.Unit, to)
			}
			x *= f
		} else {
			q := x / f
			if x%f != 0 && x < 0 {
				q--
			}
			x = q
		}
		out[i] = arrow.Timestamp(x)
	}
	return array.NewData(to, n, []*memory.Buffer{valid, values}, nil, d.NullN(), 0), nil
}

// narrowOffsets turns a large list (64-bit offsets) into a list; child is
// the large list's (whole) child, already conformed.
func narrowOffsets(mem memory.Allocator, path string, d arrow.ArrayData, to *arrow.ListType, child arrow.ArrayData) (arrow.ArrayData, error) {
	n := d.Len()
	in := arrow.Int64Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset() : d.Offset()+n+1]
	offsets := memory.NewResizableBuffer(mem)
	defer offsets.Release()
	offsets.Resize(arrow.Int32Traits.BytesRequired(n + 1))
	out := arrow.Int32Traits.CastFromBytes(offsets.Bytes())
	for i, v := range in {
		if v < 0 || v > math.MaxInt32 {
			return nil, fmt.Errorf("%w: column %q: list offset %d does not fit 32 bits", ErrValue, path, v)
		}
		out[i] = int32(v)
	}
	valid := validity(mem, d)
	if valid != nil {
		defer valid.Release()
	}
	return array.NewData(to, n, []*memory.Buffer{valid, offsets}, []arrow.ArrayData{child}, d.NullN(), 0), nil
}

// fromView copies a string or binary view array (arrow-go's cast has no
// kernel for views) into string or binary with 32-bit offsets.
func fromView(mem memory.Allocator, path string, d arrow.ArrayData, to arrow.DataType) (arrow.ArrayData, error) {
	in := array.MakeFromData(d).(array.ViewLike)
	defer in.Release()
	value := func(i int) []byte { return in.(*array.BinaryView).Value(i) }
	if sv, ok := in.(*array.StringView); ok {
		value = func(i int) []byte { return []byte(sv.Value(i)) }
	}
	var total int
	for i := 0; i < in.Len(); i++ {
		if in.IsValid(i) {
			total += len(value(i))
		}
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("%w: column %q: %d bytes of values do not fit 32-bit offsets", ErrValue, path, total)
	}
	b := array.NewBinaryBuilder(mem, to.(arrow.BinaryDataType))
	defer b.Release()
	b.Reserve(in.Len())
	b.ReserveData(total)
	for i := 0; i < in.Len(); i++ {
		if in.IsNull(i) {
			b.AppendNull()
			continue
		}
		b.Append(value(i))
	}
	out := b.NewArray()
	defer out.Release()
	data := out.Data()
	data.Retain()
	return data, nil
}
