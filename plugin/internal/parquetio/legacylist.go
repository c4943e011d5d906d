package parquetio

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// Parquet schema element values this file needs (parquet.thrift).
const (
	repRequired      = 0 // FieldRepetitionType.REQUIRED
	repRepeated      = 2 // FieldRepetitionType.REPEATED
	convertedMap     = 1 // ConvertedType.MAP
	convertedList    = 3 // ConvertedType.LIST
	legacyListMarker = "list"
)

// fixLegacyLists rewrites the footer's schema where arrow-go reads a legacy
// list one level too deep, and returns md unchanged when there is none.
//
// The Parquet spec's backward-compatibility rules for LIST (LogicalTypes.md)
// say that when the repeated field inside a LIST group is a group named
// "array" or "<list>_tuple" with one field, that repeated group is itself the
// element. arrow-go (pqarrow) follows the rule, but reads the element as a
// plain struct even when the group is annotated LIST or MAP, as parquet-avro's
// old list structure writes a list of lists or of maps:
//
//	optional group a (LIST) {
//	  repeated group array (LIST) {
//	    repeated int32 array;
//	  }
//	}
//
// arrow-go: list<struct<array: list<int32>>>; the spec and pyarrow:
// list<list<int32>>. For a list of maps arrow-go fails outright. The rewrite
// gives the element group a repeated wrapper of its own, which has the same
// definition and repetition levels (the wrapper is repeated, the element
// becomes required), so the column data is read unchanged:
//
//	optional group a (LIST) {
//	  repeated group list {
//	    required group array (LIST) {
//	      repeated int32 array;
//	    }
//	  }
//	}
//
// which arrow-go reads as the standard three-level list of the annotated
// element: list<array: list<array: int32>>, what pyarrow reads.
func fixLegacyLists(md *metadata.FileMetaData) (*metadata.FileMetaData, error) {
	elems := md.FileMetaData.Schema
	if md.Schema == nil || len(elems) == 0 {
		return md, nil // vetMetadata reports a missing schema
	}
	// The element type is internal to arrow-go: these closures take indices.
	annotated := func(i int, converted int32, logical func() bool) bool {
		e := elems[i]
		return (e.ConvertedType != nil && int32(*e.ConvertedType) == converted) || (e.LogicalType != nil && logical())
	}
	isList := func(i int) bool { return annotated(i, convertedList, elems[i].GetLogicalType().IsSetLIST) }
	isMap := func(i int) bool { return annotated(i, convertedMap, elems[i].GetLogicalType().IsSetMAP) }
	// isElement: the only child (at i) of the LIST group named list is a
	// repeated group that the rules make the element itself, and it is
	// annotated LIST or MAP, which arrow-go would ignore.
	isElement := func(i int, list string) bool {
		e := elems[i]
		return e.RepetitionType != nil && int32(*e.RepetitionType) == repRepeated &&
			!e.IsSetType() && e.GetNumChildren() == 1 &&
			(e.GetName() == "array" || e.GetName() == list+"_tuple") &&
			(isList(i) || isMap(i))
	}
	out := elems[:0:0]
	changed := false
	// visit appends the subtree at i (the element made required when asked)
	// and returns the index after it.
	var visit func(i int, required bool) (int, error)
	visit = func(i int, required bool) (int, error) {
		if i >= len(elems) {
			return 0, fmt.Errorf("schema element %d of %d", i, len(elems))
		}
		e := elems[i]
		if required {
			c := *e
			r := *e.RepetitionType
			r = repRequired
			c.RepetitionType = &r
			e = &c
		}
		out = append(out, e)
		n, next := int(e.GetNumChildren()), i+1
		if n == 1 && !e.IsSetType() && isList(i) && next < len(elems) && isElement(next, e.GetName()) {
			w := *elems[next] // repeated, like the element was
			w.Name = legacyListMarker
			one := int32(1)
			w.NumChildren = &one
			w.Type, w.TypeLength, w.ConvertedType, w.LogicalType = nil, nil, nil, nil
			w.Scale, w.Precision, w.FieldID = nil, nil, nil
			out = append(out, &w)
			changed = true
			return visit(next, true)
		}
		for k := 0; k < n; k++ {
			var err error
			if next, err = visit(next, false); err != nil {
				return 0, err
			}
		}
		return next, nil
	}
	if _, err := visit(0, false); err != nil {
		return nil, err
	}
	if !changed {
		return md, nil
	}
	md.FileMetaData.Schema = out
	var buf bytes.Buffer
	if _, err := md.WriteTo(&buf, nil); err != nil {
		return nil, fmt.Errorf("re-encode legacy lists: %w", err)
	}
	return decodeMetadata(buf.Bytes())
}
