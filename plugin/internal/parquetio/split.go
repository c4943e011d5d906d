package parquetio

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// emitTable emits the rows of tbl as records of at most maxBytes each, in
// order: the table reader cuts at the columns' chunk boundaries, and a record
// over the bound is halved until it fits. A single row over the bound cannot
// be sent and fails with ErrTooLarge. It returns the rows emitted.
func emitTable(tbl arrow.Table, maxBytes int64, emit func(arrow.RecordBatch) error) (int64, error) {
	tr := array.NewTableReader(tbl, tbl.NumRows())
	defer tr.Release()
	var sent int64
	for tr.Next() {
		n, err := emitSplit(tr.RecordBatch(), maxBytes, emit)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, tr.Err()
}

func emitSplit(rec arrow.RecordBatch, maxBytes int64, emit func(arrow.RecordBatch) error) (int64, error) {
	rows := rec.NumRows()
	if rows == 0 {
		return 0, nil
	}
	size := recordBytes(rec)
	if size <= maxBytes {
		return rows, emit(rec)
	}
	if rows == 1 {
		return 0, fmt.Errorf("%w: a row of %d bytes exceeds the %d-byte record limit", ErrTooLarge, size, maxBytes)
	}
	mid := rows / 2
	left := rec.NewSlice(0, mid)
	n, err := emitSplit(left, maxBytes, emit)
	left.Release()
	if err != nil {
		return n, err
	}
	right := rec.NewSlice(mid, rows)
	m, err := emitSplit(right, maxBytes, emit)
	right.Release()
	return n + m, err
}

func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += arrayBytes(c)
	}
	return n
}

func tableBytes(tbl arrow.Table) int64 {
	var n int64
	for i := 0; i < int(tbl.NumCols()); i++ {
		for _, c := range tbl.Column(i).Data().Chunks() {
			n += arrayBytes(c)
		}
	}
	return n
}

// arrayBytes is the size of the buffers of the slice a covers, as an IPC
// writer sends them (it truncates buffers to the slice): values between the
// slice's first and last offsets, not the whole shared buffer.
func arrayBytes(a arrow.Array) int64 {
	n := int64(a.Len())
	if n == 0 {
		return 0
	}
	if ext, ok := a.(array.ExtensionArray); ok {
		// UUID, VARIANT, JSON...: sized as their storage, slice-aware.
		return arrayBytes(ext.Storage())
	}
	size := (n + 7) / 8 // validity bitmap (upper bound: absent when no nulls)
	switch a := a.(type) {
	case *array.String:
		o := a.ValueOffsets()
		size += 4*int64(len(o)) + int64(o[len(o)-1]-o[0])
	case *array.Binary:
		o := a.ValueOffsets()
		size += 4*int64(len(o)) + int64(o[len(o)-1]-o[0])
	case *array.LargeString:
		o := a.ValueOffsets()
		size += 8*int64(len(o)) + o[len(o)-1] - o[0]
	case *array.LargeBinary:
		o := a.ValueOffsets()
		size += 8*int64(len(o)) + o[len(o)-1] - o[0]
	case *array.Map:
		size += 4*(n+1) + listChildBytes(a.List, n)
	case *array.List:
		size += 4*(n+1) + listChildBytes(a, n)
	case *array.LargeList:
		size += 8*(n+1) + listChildBytes(a, n)
	case *array.FixedSizeList:
		k := int64(a.DataType().(*arrow.FixedSizeListType).Len())
		off := int64(a.Data().Offset())
		size += childBytes(a.ListValues(), off*k, (off+n)*k)
	case *array.Struct:
		for i := 0; i < a.NumField(); i++ {
			size += arrayBytes(a.Field(i))
		}
	case *array.Dictionary:
		size += arrayBytes(a.Indices()) + arrayBytes(a.Dictionary())
	default:
		if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok {
			size += (n*int64(fw.BitWidth()) + 7) / 8
		} else {
			size += dataBytes(a.Data()) // other layouts: every buffer, whole (an overestimate)
		}
	}
	return size
}

// listChildBytes sizes the child values the n lists of a (a slice) refer to.
func listChildBytes(a interface {
	ValueOffsets(int) (int64, int64)
	ListValues() arrow.Array
}, n int64,
) int64 {
	from, _ := a.ValueOffsets(0)
	_, to := a.ValueOffsets(int(n - 1))
	return childBytes(a.ListValues(), from, to)
}

func childBytes(child arrow.Array, from, to int64) int64 {
	if to <= from {
		return 0
	}
	s := array.NewSlice(child, from, to)
	defer s.Release()
	return arrayBytes(s)
}

func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	// Dictionary() returns a typed nil (*array.Data) when there is none: an
	// interface comparison with nil would not see it.
	if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
		n += dataBytes(dict)
	}
	return n
}
