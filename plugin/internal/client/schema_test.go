package client

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestCompatible(t *testing.T) {
	base := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	table := tableFromSchema("t", "", base, false)
	md := arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{"7"})
	tests := []struct {
		name    string
		fields  []arrow.Field
		wantErr string
	}{
		{"identical", base.Fields(), ""},
		{"nullability and metadata differ", []arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true, Metadata: md},
			{Name: "name", Type: arrow.BinaryTypes.String},
		}, ""},
		{"extra column", append(base.Fields(), arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int8}), "table \"t\" has 2 columns, file has 3"},
		{"renamed column", []arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "title", Type: arrow.BinaryTypes.String},
		}, `column 1 is "name" in table "t" but "title" in file`},
		{"retyped column", []arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int32},
			{Name: "name", Type: arrow.BinaryTypes.String},
		}, `table "t": column "id" is int64 in the table but int32 in the file`},
		{"dictionary and large strings", []arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "name", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.LargeString}},
		}, ""},
		{"string where the table has int64", []arrow.Field{
			{Name: "id", Type: arrow.BinaryTypes.LargeString},
			{Name: "name", Type: arrow.BinaryTypes.String},
		}, `table "t": column "id" is int64 in the table but large_utf8 in the file`},
		{"reordered columns", []arrow.Field{base.Field(1), base.Field(0)}, `column 0 is "id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := compatible(table, arrow.NewSchema(tt.fields, nil))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// Nested fields: nullability and metadata are unified, types are compared by
// path, and the message names the path, not two identical-looking structs.
func TestCompatibleNested(t *testing.T) {
	md := arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{"7"})
	first := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.StructOf(
		arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int32},
		arrow.Field{Name: "l", Type: arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.FixedWidthTypes.Timestamp_ms})},
	)}}, nil)
	table := tableFromSchema("t", "", first, false)
	if got := table.Columns[0].Type.String(); got != "struct<k: int32 nullable, l: list<item: timestamp[us, tz=UTC], nullable> nullable>" {
		t.Fatalf("table type %s", got)
	}
	tests := []struct {
		name    string
		typ     arrow.DataType
		wantErr string
	}{
		{"nullable, with metadata, other unit and zone", arrow.StructOf(
			arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int32, Nullable: true, Metadata: md},
			arrow.Field{Name: "l", Type: arrow.ListOfField(arrow.Field{Name: "item", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "Europe/Paris"}, Nullable: true})},
		), ""},
		{"leaf retyped", arrow.StructOf(
			arrow.Field{Name: "k", Type: arrow.BinaryTypes.String},
			arrow.Field{Name: "l", Type: arrow.ListOf(arrow.FixedWidthTypes.Timestamp_ms)},
		), `table "t": column "s.k" is int32 in the table but utf8 in the file`},
		{"list element retyped", arrow.StructOf(
			arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int32},
			arrow.Field{Name: "l", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		), `table "t": column "s.l[]" is timestamp[us, tz=UTC] in the table but utf8 in the file`},
		{"field renamed", arrow.StructOf(
			arrow.Field{Name: "key", Type: arrow.PrimitiveTypes.Int32},
			arrow.Field{Name: "l", Type: arrow.ListOf(arrow.FixedWidthTypes.Timestamp_ms)},
		), `table "t": column "s": field 0 is "k" in the table but "key" in the file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := compatible(table, arrow.NewSchema([]arrow.Field{{Name: "s", Type: tt.typ}}, nil))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) || !errors.Is(err, errSchemaMismatch)):
				t.Fatalf("err = %v, want it to end with %q", err, tt.wantErr)
			}
		})
	}
}
