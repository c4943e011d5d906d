package client

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/cloudquery/plugin-sdk/v4/schema"

	"github.com/infobloxopen/cq-source-s3/internal/drift"
)

// errSchemaMismatch marks a file whose columns differ from its table's.
var errSchemaMismatch = errors.New("schema mismatch")

// tableFromSchema builds the CloudQuery table for a Parquet schema. Columns are
// nullable whatever the file says, so files written with and without "required"
// fields can share a table, and their types are normalised (drift.Normalize):
// dictionaries decoded, 32-bit offsets, timestamps in microseconds UTC, nested
// fields nullable, so that files of the same data from other writers fit.
func tableFromSchema(name, description string, sc *arrow.Schema, incremental bool) *schema.Table {
	cols := make(schema.ColumnList, 0, sc.NumFields())
	for _, f := range sc.Fields() {
		cols = append(cols, schema.Column{Name: f.Name, Type: drift.Normalize(f.Type)})
	}
	return &schema.Table{Name: name, Description: description, Columns: cols, IsIncremental: incremental}
}

// usable reports why a table cannot be offered to CloudQuery, or nil.
func usable(t *schema.Table) error {
	if len(t.Columns) == 0 {
		return errors.New("file has no columns")
	}
	return t.ValidateDuplicateColumns()
}

// compatible reports why a file schema cannot be loaded into table, or nil.
// Names and order of the columns must match; each column's type must convert
// to the table's (drift.Check): the error names the first differing field,
// nested ones by path ("s.k", "l[]").
func compatible(table *schema.Table, file *arrow.Schema) error {
	if len(table.Columns) != file.NumFields() {
		return fmt.Errorf("%w: table %q has %d columns, file has %d", errSchemaMismatch, table.Name, len(table.Columns), file.NumFields())
	}
	for i, c := range table.Columns {
		f := file.Field(i)
		if c.Name != f.Name {
			return fmt.Errorf("%w: column %d is %q in table %q but %q in file", errSchemaMismatch, i, c.Name, table.Name, f.Name)
		}
		if err := drift.Check(c.Name, c.Type, f.Type); err != nil {
			return fmt.Errorf("%w: table %q: %w", errSchemaMismatch, table.Name, err)
		}
	}
	return nil
}
