package parquetio

import (
	"bytes"
	"context"
	"fmt"

	"github.com/apache/thrift/lib/go/thrift"
)

// Thrift field ids of parquet.thrift this file needs.
const (
	fileMetaSchema     = 2  // FileMetaData.schema: list<SchemaElement>
	elementName        = 4  // SchemaElement.name
	elementLogicalType = 10 // SchemaElement.logicalType: union LogicalType
)

// logicalTypeNames are the LogicalType union members arrow-go reads; any
// other member (GEOMETRY, GEOGRAPHY, one newer than this build, or none)
// makes its schema conversion panic, so the table would vanish at discovery.
var logicalTypeNames = map[int16]string{
	1: "STRING", 2: "MAP", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE", 7: "TIME", 8: "TIMESTAMP",
	10: "INTEGER", 11: "UNKNOWN", 12: "JSON", 13: "BSON", 14: "UUID", 15: "FLOAT16", 16: "VARIANT",
}

var unsupportedNames = map[int16]string{17: "GEOMETRY", 18: "GEOGRAPHY"}

// dropUnknownLogicalTypes re-encodes a (vetted) footer without the logical
// type annotations arrow-go cannot read, so those columns fall back to their
// physical type (GEOMETRY and GEOGRAPHY are WKB in BYTE_ARRAY: binary). It
// returns the footer unchanged when there are none, else the new footer and
// one note per column changed.
func dropUnknownLogicalTypes(buf []byte) ([]byte, []string, error) {
	ctx := context.Background()
	cfg := &thrift.TConfiguration{MaxMessageSize: int32(len(buf))}
	in := thrift.NewTCompactProtocolConf(&thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(buf)}, cfg)
	outBuf := &thrift.TMemoryBuffer{Buffer: new(bytes.Buffer)}
	out := thrift.NewTCompactProtocolConf(outBuf, cfg)
	c := &thriftCopier{ctx: ctx, in: in, out: out}
	if err := c.copyStruct(0); err != nil {
		return nil, nil, err
	}
	if len(c.notes) == 0 {
		return buf, nil, nil
	}
	if err := out.Flush(ctx); err != nil {
		return nil, nil, err
	}
	return outBuf.Bytes(), c.notes, nil
}

// thriftCopier copies Thrift compact data generically, dropping the
// unreadable logicalType fields of schema elements.
type thriftCopier struct {
	ctx     context.Context
	in, out thrift.TProtocol
	notes   []string
}

// levels of the walk: 0 the FileMetaData, 1 a SchemaElement, 2 anything else.
func (c *thriftCopier) copyStruct(level int) error {
	if _, err := c.in.ReadStructBegin(c.ctx); err != nil {
		return err
	}
	if err := c.out.WriteStructBegin(c.ctx, ""); err != nil {
		return err
	}
	name := ""
	for {
		_, typ, id, err := c.in.ReadFieldBegin(c.ctx)
		if err != nil {
			return err
		}
		if typ == thrift.STOP {
			break
		}
		if level == 1 && id == elementLogicalType && typ == thrift.STRUCT {
			if err := c.logicalType(name); err != nil {
				return err
			}
		} else {
			if err := c.out.WriteFieldBegin(c.ctx, "", typ, id); err != nil {
				return err
			}
			next := 2
			if level == 0 && id == fileMetaSchema {
				next = 1 // the list's elements are SchemaElements
			}
			if level == 1 && id == elementName && typ == thrift.STRING {
				if name, err = c.in.ReadString(c.ctx); err != nil {
					return err
				}
				if err := c.out.WriteString(c.ctx, name); err != nil {
					return err
				}
			} else if err := c.copyValue(typ, next); err != nil {
				return err
			}
			if err := c.out.WriteFieldEnd(c.ctx); err != nil {
				return err
			}
		}
		if err := c.in.ReadFieldEnd(c.ctx); err != nil {
			return err
		}
	}
	if err := c.out.WriteFieldStop(c.ctx); err != nil {
		return err
	}
	if err := c.out.WriteStructEnd(c.ctx); err != nil {
		return err
	}
	return c.in.ReadStructEnd(c.ctx)
}

// logicalType copies a LogicalType union whose member arrow-go reads, and
// drops (with a note) one it cannot.
func (c *thriftCopier) logicalType(column string) error {
	if _, err := c.in.ReadStructBegin(c.ctx); err != nil {
		return err
	}
	_, typ, id, err := c.in.ReadFieldBegin(c.ctx)
	if err != nil {
		return err
	}
	if _, ok := logicalTypeNames[id]; ok && typ != thrift.STOP {
		if err := c.out.WriteFieldBegin(c.ctx, "", thrift.STRUCT, elementLogicalType); err != nil {
			return err
		}
		if err := c.out.WriteStructBegin(c.ctx, ""); err != nil {
			return err
		}
		for typ != thrift.STOP {
			if err := c.out.WriteFieldBegin(c.ctx, "", typ, id); err != nil {
				return err
			}
			if err := c.copyValue(typ, 2); err != nil {
				return err
			}
			if err := c.out.WriteFieldEnd(c.ctx); err != nil {
				return err
			}
			if err := c.in.ReadFieldEnd(c.ctx); err != nil {
				return err
			}
			if _, typ, id, err = c.in.ReadFieldBegin(c.ctx); err != nil {
				return err
			}
		}
		if err := c.out.WriteFieldStop(c.ctx); err != nil {
			return err
		}
		if err := c.out.WriteStructEnd(c.ctx); err != nil {
			return err
		}
		if err := c.out.WriteFieldEnd(c.ctx); err != nil {
			return err
		}
		return c.in.ReadStructEnd(c.ctx)
	}
	what := unsupportedNames[id]
	switch {
	case typ == thrift.STOP:
		what = "an empty logical type"
	case what == "":
		what = fmt.Sprintf("unknown logical type #%d", id)
	}
	c.notes = append(c.notes, fmt.Sprintf("column %q: %s is not supported; read as its physical type", column, what))
	for typ != thrift.STOP {
		if err := thrift.SkipDefaultDepth(c.ctx, c.in, typ); err != nil {
			return err
		}
		if err := c.in.ReadFieldEnd(c.ctx); err != nil {
			return err
		}
		if _, typ, _, err = c.in.ReadFieldBegin(c.ctx); err != nil {
			return err
		}
	}
	return c.in.ReadStructEnd(c.ctx)
}

func (c *thriftCopier) copyValue(typ thrift.TType, level int) error {
	ctx, in, out := c.ctx, c.in, c.out
	switch typ {
	case thrift.BOOL:
		v, err := in.ReadBool(ctx)
		if err != nil {
			return err
		}
		return out.WriteBool(ctx, v)
	case thrift.BYTE:
		v, err := in.ReadByte(ctx)
		if err != nil {
			return err
		}
		return out.WriteByte(ctx, v)
	case thrift.I16:
		v, err := in.ReadI16(ctx)
		if err != nil {
			return err
		}
		return out.WriteI16(ctx, v)
	case thrift.I32:
		v, err := in.ReadI32(ctx)
		if err != nil {
			return err
		}
		return out.WriteI32(ctx, v)
	case thrift.I64:
		v, err := in.ReadI64(ctx)
		if err != nil {
			return err
		}
		return out.WriteI64(ctx, v)
	case thrift.DOUBLE:
		v, err := in.ReadDouble(ctx)
		if err != nil {
			return err
		}
		return out.WriteDouble(ctx, v)
	case thrift.STRING:
		v, err := in.ReadBinary(ctx)
		if err != nil {
			return err
		}
		return out.WriteBinary(ctx, v)
	case thrift.UUID:
		v, err := in.ReadUUID(ctx)
		if err != nil {
			return err
		}
		return out.WriteUUID(ctx, v)
	case thrift.STRUCT:
		return c.copyStruct(level)
	case thrift.LIST, thrift.SET:
		et, n, err := in.ReadListBegin(ctx)
		if err != nil {
			return err
		}
		if err := out.WriteListBegin(ctx, et, n); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := c.copyValue(et, level); err != nil {
				return err
			}
		}
		if err := in.ReadListEnd(ctx); err != nil {
			return err
		}
		return out.WriteListEnd(ctx)
	case thrift.MAP:
		kt, vt, n, err := in.ReadMapBegin(ctx)
		if err != nil {
			return err
		}
		if err := out.WriteMapBegin(ctx, kt, vt, n); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := c.copyValue(kt, 2); err != nil {
				return err
			}
			if err := c.copyValue(vt, 2); err != nil {
				return err
			}
		}
		if err := in.ReadMapEnd(ctx); err != nil {
			return err
		}
		return out.WriteMapEnd(ctx)
	default:
		return fmt.Errorf("thrift: unexpected type %d", typ)
	}
}
