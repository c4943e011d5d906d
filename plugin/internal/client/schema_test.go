package client

import (
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
		}, `column "id" is int64 in table "t" but int32 in file`},
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
