package drift

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/parquet/variant"
	"github.com/google/uuid"
)

// appendVariantJSON appends v as JSON text. It walks the value itself rather
// than calling arrow-go's MarshalJSON, which renders an empty array as null,
// stops an object silently at a field id missing from the metadata, and
// formats timestamps without a time zone in the machine's local zone.
//
// Variant types JSON lacks are rendered as Spark's to_json renders them, as
// strings: dates "2006-01-02", timestamps RFC 3339 with 6 or 9 fraction
// digits ("Z" when adjusted to UTC, no zone when not), times "15:04:05.000000",
// binary base64, UUIDs in their canonical form, a float that is NaN or
// infinite "NaN", "Infinity", "-Infinity". Decimals are exact JSON numbers.
func appendVariantJSON(buf []byte, v variant.Value) ([]byte, error) {
	switch v.Type() {
	case variant.Object:
		obj, ok := v.Value().(variant.ObjectValue)
		if !ok {
			return nil, fmt.Errorf("object value is %T", v.Value())
		}
		buf = append(buf, '{')
		for i := uint32(0); i < obj.NumElements(); i++ {
			f, err := obj.FieldAt(i)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendJSONString(buf, f.Key); err != nil {
				return nil, err
			}
			buf = append(buf, ':')
			if buf, err = appendVariantJSON(buf, f.Value); err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Key, err)
			}
		}
		return append(buf, '}'), nil
	case variant.Array:
		arr, ok := v.Value().(variant.ArrayValue)
		if !ok {
			return nil, fmt.Errorf("array value is %T", v.Value())
		}
		buf = append(buf, '[')
		for i := uint32(0); i < arr.Len(); i++ {
			e, err := arr.Value(i)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendVariantJSON(buf, e); err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return append(buf, ']'), nil
	}
	switch x := v.Value().(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int8:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case float32:
		return appendFloat(buf, float64(x), 32), nil
	case float64:
		return appendFloat(buf, x, 64), nil
	case string:
		return appendJSONString(buf, x)
	case []byte:
		return appendJSONString(buf, base64.StdEncoding.EncodeToString(x))
	case uuid.UUID:
		return appendJSONString(buf, x.String())
	case variant.DecimalValue[decimal.Decimal32]:
		return append(buf, x.Value.ToString(int32(x.Scale))...), nil
	case variant.DecimalValue[decimal.Decimal64]:
		return append(buf, x.Value.ToString(int32(x.Scale))...), nil
	case variant.DecimalValue[decimal.Decimal128]:
		return append(buf, x.Value.ToString(int32(x.Scale))...), nil
	case arrow.Date32:
		return appendJSONString(buf, x.ToTime().Format(time.DateOnly))
	case arrow.Time64:
		return appendJSONString(buf, x.ToTime(arrow.Microsecond).Format("15:04:05.000000"))
	case arrow.Timestamp:
		layout, unit := "2006-01-02T15:04:05.000000", arrow.Microsecond
		switch v.Type() {
		case variant.TimestampNanos, variant.TimestampNanosNTZ:
			layout, unit = "2006-01-02T15:04:05.000000000", arrow.Nanosecond
		}
		switch v.Type() {
		case variant.TimestampMicros, variant.TimestampNanos:
			layout += "Z"
		}
		return appendJSONString(buf, x.ToTime(unit).UTC().Format(layout))
	}
	return nil, fmt.Errorf("variant type %d is not supported", v.Type())
}

func appendFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(buf, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(buf, `"-Infinity"`...)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, bits)
}

func appendJSONString(buf []byte, s string) ([]byte, error) {
	q, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return append(buf, q...), nil
}
