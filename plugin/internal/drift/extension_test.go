package drift

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"
	"github.com/cloudquery/plugin-sdk/v4/types"
	"github.com/google/uuid"
)

func jsonType(t *testing.T, storage arrow.DataType) arrow.ExtensionType {
	t.Helper()
	jt, err := extensions.NewJSONType(storage)
	if err != nil {
		t.Fatal(err)
	}
	return jt
}

func TestNormalizeExtensionTypes(t *testing.T) {
	shredded := extensions.NewShreddedVariantType(arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}))
	for _, tt := range []struct {
		in   arrow.DataType
		want arrow.DataType
	}{
		{extensions.NewUUIDType(), types.ExtensionTypes.UUID},
		{jsonType(t, arrow.BinaryTypes.String), types.ExtensionTypes.JSON},
		{extensions.NewDefaultVariantType(), types.ExtensionTypes.JSON},
		{shredded, types.ExtensionTypes.JSON},
		{extensions.NewBool8Type(), arrow.FixedWidthTypes.Boolean},
		{types.ExtensionTypes.UUID, types.ExtensionTypes.UUID},
		{types.ExtensionTypes.Inet, types.ExtensionTypes.Inet},
		// An extension with no meaning here: its storage, normalised.
		{extensions.NewOpaqueType(arrow.BinaryTypes.LargeString, "geo", "postgis"), arrow.BinaryTypes.String},
		// Nested: the struct's field becomes json.
		{arrow.StructOf(arrow.Field{Name: "v", Type: shredded}), arrow.StructOf(arrow.Field{Name: "v", Type: types.ExtensionTypes.JSON, Nullable: true})},
	} {
		if got := Normalize(tt.in); !arrow.TypeEqual(got, tt.want) {
			t.Errorf("Normalize(%s) = %s, want %s", tt.in, got, tt.want)
		}
		if err := Check("c", Normalize(tt.in), tt.in); err != nil {
			t.Errorf("Check(Normalize(%s)) = %v", tt.in, err)
		}
	}
	// A table of uuid does not take a file of json, nor of plain 16-byte binary.
	if err := Check("c", types.ExtensionTypes.UUID, extensions.NewDefaultVariantType()); err == nil {
		t.Error("uuid table accepted a variant file")
	}
	if err := Check("c", types.ExtensionTypes.UUID, &arrow.FixedSizeBinaryType{ByteWidth: 16}); err == nil {
		t.Error("uuid table accepted fixed_size_binary[16]")
	}
}

func TestConformUUIDAndJSON(t *testing.T) {
	mem := memory.DefaultAllocator
	u := uuid.MustParse("0193a3f4-7a3b-7c2e-9f00-123456789abc")
	ub := extensions.NewUUIDBuilder(mem)
	ub.Append(u)
	ub.AppendNull()
	in := ub.NewArray()
	defer in.Release()
	out, err := Conform(mem, "id", in, types.ExtensionTypes.UUID)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if got := out.(*types.UUIDArray).ValueStr(0); got != u.String() || !out.IsNull(1) {
		t.Errorf("uuid: got %q, null %v", got, out.IsNull(1))
	}

	jb := jsonType(t, arrow.BinaryTypes.LargeString)
	sb := array.NewExtensionBuilder(mem, jb)
	sb.StorageBuilder().(*array.LargeStringBuilder).Append(`{"a":[1,2]}`)
	sb.AppendNull()
	jin := sb.NewArray()
	defer jin.Release()
	jout, err := Conform(mem, "doc", jin, types.ExtensionTypes.JSON)
	if err != nil {
		t.Fatal(err)
	}
	defer jout.Release()
	if got := string(jout.(*types.JSONArray).Storage().(*array.Binary).Value(0)); got != `{"a":[1,2]}` || !jout.IsNull(1) {
		t.Errorf("json: got %q, null %v", got, jout.IsNull(1))
	}
}

// variantArray builds an unshredded VARIANT array of the given values (nil: SQL NULL).
func variantArray(t *testing.T, values ...*variant.Value) arrow.Array {
	t.Helper()
	b := extensions.NewVariantBuilder(memory.DefaultAllocator, extensions.NewDefaultVariantType())
	defer b.Release()
	for _, v := range values {
		if v == nil {
			b.AppendNull()
			continue
		}
		b.Append(*v)
	}
	return b.NewArray()
}

func mustVariant(t *testing.T, build func(b *variant.Builder) error) *variant.Value {
	t.Helper()
	var b variant.Builder
	if err := build(&b); err != nil {
		t.Fatal(err)
	}
	v, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return &v
}

func TestVariantRendersAsJSON(t *testing.T) {
	ts := arrow.Timestamp(1_700_000_000_123_456)
	for _, tt := range []struct {
		name  string
		build func(b *variant.Builder) error
		want  string
	}{
		{"empty array (arrow-go's MarshalJSON says null)", func(b *variant.Builder) error { return b.FinishArray(b.Offset(), nil) }, `[]`},
		{"empty object", func(b *variant.Builder) error { return b.FinishObject(b.Offset(), nil) }, `{}`},
		{"string with quotes", func(b *variant.Builder) error { return b.AppendString(`say "hi"` + "\n") }, `"say \"hi\"\n"`},
		{"int64", func(b *variant.Builder) error { return b.AppendInt(-9007199254740993) }, `-9007199254740993`},
		{"double", func(b *variant.Builder) error { return b.AppendFloat64(1.5) }, `1.5`},
		{"NaN as Spark writes it", func(b *variant.Builder) error { return b.AppendFloat64(math.NaN()) }, `"NaN"`},
		{"-Inf", func(b *variant.Builder) error { return b.AppendFloat32(float32(math.Inf(-1))) }, `"-Infinity"`},
		{"decimal exact", func(b *variant.Builder) error { return b.AppendDecimal16(3, decimal128.FromI64(-12345)) }, `-12.345`},
		{"date", func(b *variant.Builder) error { return b.AppendDate(arrow.Date32(19723)) }, `"2024-01-01"`},
		{"timestamp UTC", func(b *variant.Builder) error { return b.AppendTimestamp(ts, true, true) }, `"2023-11-14T22:13:20.123456Z"`},
		{"timestamp without zone", func(b *variant.Builder) error { return b.AppendTimestamp(ts, true, false) }, `"2023-11-14T22:13:20.123456"`},
		{"binary base64", func(b *variant.Builder) error { return b.AppendBinary([]byte{0, 1, 2, 255}) }, `"AAEC/w=="`},
		{"uuid", func(b *variant.Builder) error {
			return b.AppendUUID(uuid.MustParse("0193a3f4-7a3b-7c2e-9f00-123456789abc"))
		}, `"0193a3f4-7a3b-7c2e-9f00-123456789abc"`},
		{"nested object", func(b *variant.Builder) error {
			start := b.Offset()
			fields := []variant.FieldEntry{b.NextField(start, "a")}
			if err := b.AppendInt(1); err != nil {
				return err
			}
			fields = append(fields, b.NextField(start, "l"))
			inner := b.Offset()
			if err := b.FinishArray(inner, nil); err != nil {
				return err
			}
			return b.FinishObject(start, fields)
		}, `{"a":1,"l":[]}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			arr := variantArray(t, mustVariant(t, tt.build), nil)
			defer arr.Release()
			out, err := Conform(memory.DefaultAllocator, "v", arr, types.ExtensionTypes.JSON)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			if got := string(out.(*types.JSONArray).Storage().(*array.Binary).Value(0)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !out.IsNull(1) {
				t.Error("SQL NULL did not stay null")
			}
		})
	}
}

// Invalid variant bytes fail the array, naming the column and the row, also
// where arrow-go would panic (it asserts rather than checks some offsets).
func TestInvalidVariantFailsNamingTheColumn(t *testing.T) {
	good := mustVariant(t, func(b *variant.Builder) error { return b.AppendString("ok") })
	for _, tt := range []struct {
		name        string
		meta, value []byte
	}{
		{"empty metadata", nil, good.Bytes()},
		{"object with a field id past the dictionary", good.Metadata().Bytes(), []byte{0x02, 0x01, 0x05, 0x00, 0x01, 0x00}},
		{"array offsets past the value", good.Metadata().Bytes(), []byte{0x03, 0x02, 0x00, 0x7f, 0x7f}},
		{"string longer than the value", good.Metadata().Bytes(), []byte{0x40, 0xff, 0xff, 0x00, 0x00}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vt := extensions.NewDefaultVariantType()
			sb := array.NewStructBuilder(memory.DefaultAllocator, vt.StorageType().(*arrow.StructType))
			defer sb.Release()
			sb.Append(true)
			sb.FieldBuilder(0).(*array.BinaryBuilder).Append(good.Metadata().Bytes())
			sb.FieldBuilder(1).(*array.BinaryBuilder).Append(good.Bytes())
			sb.Append(true)
			sb.FieldBuilder(0).(*array.BinaryBuilder).Append(tt.meta)
			sb.FieldBuilder(1).(*array.BinaryBuilder).Append(tt.value)
			storage := sb.NewArray()
			defer storage.Release()
			arr := array.NewExtensionArrayWithStorage(vt, storage)
			defer arr.Release()
			_, err := Conform(memory.DefaultAllocator, "s.v", arr, types.ExtensionTypes.JSON)
			if !errors.Is(err, ErrVariant) || !strings.Contains(err.Error(), `column "s.v", row 1`) {
				t.Fatalf("got %v, want ErrVariant naming column s.v, row 1", err)
			}
		})
	}
}
