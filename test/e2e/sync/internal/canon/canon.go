// Package canon turns Arrow records into a canonical text form, so rows written into Parquet
// and rows that come out of a CloudQuery destination can be compared exactly.
//
// A row is a JSON object mapping column name to the column's Arrow ValueStr (lossless for the
// types the test uses: integers and strings verbatim, floats in shortest round-trip form,
// timestamps as RFC 3339 with nanoseconds and zone) or null. Keys are sorted by encoding/json,
// so the same row always yields the same string. Types are compared separately via Fields.
package canon

import (
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Field is a column's name and Arrow type as text, e.g. {"created_at", "timestamp[us, tz=UTC]"}.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Fields lists a schema's columns in order.
func Fields(sc *arrow.Schema) []Field {
	out := make([]Field, 0, sc.NumFields())
	for _, f := range sc.Fields() {
		out = append(out, Field{Name: f.Name, Type: f.Type.String()})
	}
	return out
}

// Rows returns one canonical JSON object per row of rec.
func Rows(rec arrow.RecordBatch) ([]string, error) {
	sc := rec.Schema()
	rows := make([]string, 0, rec.NumRows())
	for i := 0; i < int(rec.NumRows()); i++ {
		row := make(map[string]*string, sc.NumFields())
		for c, f := range sc.Fields() {
			if _, dup := row[f.Name]; dup {
				return nil, fmt.Errorf("duplicate column %q", f.Name)
			}
			col := rec.Column(c)
			if col.IsNull(i) {
				row[f.Name] = nil // distinct from the string "(null)" ValueStr would give
				continue
			}
			v := col.ValueStr(i)
			row[f.Name] = &v
		}
		b, err := json.Marshal(row)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
		rows = append(rows, string(b))
	}
	return rows, nil
}
