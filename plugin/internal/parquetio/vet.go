package parquetio

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/thrift/lib/go/thrift"
)

// footerTail is the 4-byte metadata length plus the "PAR1" magic that end every Parquet file.
const footerTail = 8

// readFooter reads and decodes the file metadata of obj with every size in it
// bounded by the object's size before anything is allocated: the length in the
// tail must fit in the object, and the Thrift encoding is walked first with
// list and string lengths capped by the footer's length (arrow-go's decoder
// would otherwise pre-allocate up to 100 M list elements for a few bytes of
// input). It returns the metadata and where the data region ends (the first
// byte of the footer), with a note per column whose logical type arrow-go
// cannot read and which falls back to its physical type. Legacy lists arrow-go
// would read one level too deep are rewritten first (fixLegacyLists), and a
// damaged stored Arrow schema is dropped with a note (vetStoredSchema).
func readFooter(ra *rangeReader) (*metadata.FileMetaData, int64, []string, error) {
	size := ra.obj.Size
	if size < 4+footerTail {
		return nil, 0, nil, fmt.Errorf("object of %d bytes is too small to be Parquet", size)
	}
	tail := make([]byte, footerTail)
	if _, err := ra.ReadAt(tail, size-footerTail); err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, nil, fmt.Errorf("read footer: %w", err)
	}
	switch magic := tail[4:]; {
	case bytes.Equal(magic, []byte("PARE")):
		return nil, 0, nil, errors.New("encrypted footer (PARE): encrypted Parquet is not supported")
	case !bytes.Equal(magic, []byte("PAR1")):
		return nil, 0, nil, fmt.Errorf("no PAR1 magic at the end (found %q)", magic)
	}
	metaLen := int64(binary.LittleEndian.Uint32(tail[:4]))
	if metaLen == 0 || metaLen > size-footerTail-4 {
		return nil, 0, nil, fmt.Errorf("footer length %d does not fit in an object of %d bytes", metaLen, size)
	}
	dataEnd := size - footerTail - metaLen
	buf := make([]byte, metaLen)
	if _, err := ra.ReadAt(buf, dataEnd); err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, nil, fmt.Errorf("read footer: %w", err)
	}
	if err := vetThrift(buf); err != nil {
		return nil, 0, nil, fmt.Errorf("footer: %w", err)
	}
	buf, notes, err := dropUnknownLogicalTypes(buf)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("footer: %w", err)
	}
	md, err := decodeMetadata(buf)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("footer: %w", err)
	}
	if md, err = fixLegacyLists(md); err != nil {
		return nil, 0, nil, fmt.Errorf("footer: %w", err)
	}
	if note := vetStoredSchema(md); note != "" {
		notes = append(notes, note)
	}
	md.SetSourceFileSize(size)
	return md, dataEnd, notes, nil
}

// decodeMetadata decodes a vetted footer; arrow-go panics on some
// well-formed Thrift that is not a valid schema (no schema elements at all).
func decodeMetadata(buf []byte) (md *metadata.FileMetaData, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid file metadata: %v", r)
		}
	}()
	return metadata.NewFileMetaData(buf, nil)
}

// vetThrift walks a Thrift compact-encoded struct without building it,
// refusing any list, set, map or string longer than the buffer itself: each
// element takes at least one byte, so a longer one is corrupt.
func vetThrift(buf []byte) error {
	cfg := &thrift.TConfiguration{MaxMessageSize: int32(min(len(buf), math.MaxInt32))}
	proto := thrift.NewTCompactProtocolConf(&thrift.TMemoryBuffer{Buffer: bytes.NewBuffer(buf)}, cfg)
	return thrift.SkipDefaultDepth(context.Background(), proto, thrift.STRUCT)
}

// repairs are what vetMetadata changed in a footer: a note for each, and the
// chunks it clamped, by column index, as row group lists.
type repairs struct {
	notes   []string
	clamped map[int][]int
}

// vetMetadata checks what arrow-go's reader trusts without checking, in
// goroutines it starts itself (where a panic cannot be recovered): every column
// chunk has metadata, lies within the data region, and the row counts agree.
// A chunk that starts past the end of the data means the object is shorter
// than its footer says: ErrIncomplete.
//
// It is strict only where rows would be wrong; what pyarrow (Arrow C++) and
// parquet-java read, it repairs in md and returns a note for:
//   - a footer row count other than the row groups' sum: the row groups'
//     (both readers read row group by row group; the footer total is unused);
//   - a page index or bloom filter outside the data region: dropped (never
//     read here);
//   - a chunk whose recorded size reaches past the data region into the
//     footer: clamped to the data region (Arrow C++ checks chunks against the
//     file's size only; clamped, a page that really runs on fails to read
//     rather than decoding footer bytes).
//
// A clamped chunk is listed in the repairs: ReadBatches decodes it once before
// any row is emitted, so that an object whose pages do run past the data
// still fails whole (ErrMalformed), with nothing sent.
func vetMetadata(md *metadata.FileMetaData, dataEnd, footerLen int64) (rep repairs, err error) {
	if md.IsSetEncryptionAlgorithm() {
		return repairs{}, errors.New("encrypted Parquet is not supported")
	}
	if md.Schema == nil || md.Schema.Root() == nil {
		return repairs{}, errors.New("footer has no schema")
	}
	total := md.GetNumRows()
	if total < 0 {
		return repairs{}, fmt.Errorf("footer: negative row count %d", total)
	}
	ncols := md.Schema.NumColumns()
	var sum int64
	for i, rg := range md.GetRowGroups() {
		if rg == nil {
			return repairs{}, fmt.Errorf("row group %d: no metadata", i)
		}
		if rg.NumRows < 0 {
			return repairs{}, fmt.Errorf("row group %d: negative row count %d", i, rg.NumRows)
		}
		if sum > math.MaxInt64-rg.NumRows {
			return repairs{}, fmt.Errorf("row group %d: row count overflows", i)
		}
		sum += rg.NumRows
		if len(rg.Columns) != ncols {
			return repairs{}, fmt.Errorf("row group %d: %d column chunks for %d columns", i, len(rg.Columns), ncols)
		}
		for j, cc := range rg.Columns {
			col := md.Schema.Column(j)
			where := fmt.Sprintf("row group %d, column %q", i, col.Path())
			switch {
			case cc == nil || cc.MetaData == nil:
				return repairs{}, fmt.Errorf("%s: column chunk has no metadata", where)
			case cc.CryptoMetadata != nil || cc.EncryptedColumnMetadata != nil:
				return repairs{}, fmt.Errorf("%s: encrypted columns are not supported", where)
			case cc.FilePath != nil && *cc.FilePath != "":
				return repairs{}, fmt.Errorf("%s: column chunk in another file (%q) is not supported", where, *cc.FilePath)
			}
			m := cc.MetaData
			if _, err := compress.GetCodec(compress.Compression(m.Codec)); err != nil {
				// Before any row is read: a codec arrow-go lacks would otherwise
				// fail the object only when its first page is decoded.
				return repairs{}, fmt.Errorf("%s: compression codec %s is not supported", where, m.Codec)
			}
			if int32(m.Type) != int32(col.PhysicalType()) {
				return repairs{}, fmt.Errorf("%s: chunk type %s, schema type %s", where, m.Type, col.PhysicalType())
			}
			if m.NumValues < 0 || m.TotalCompressedSize < 0 || m.TotalUncompressedSize < 0 || m.DataPageOffset < 0 {
				return repairs{}, fmt.Errorf("%s: negative count, size or offset", where)
			}
			if col.MaxRepetitionLevel() == 0 && m.NumValues != rg.NumRows {
				return repairs{}, fmt.Errorf("%s: chunk holds %d values for %d rows", where, m.NumValues, rg.NumRows)
			}
			start := m.DataPageOffset
			if m.DictionaryPageOffset != nil && *m.DictionaryPageOffset > 0 && *m.DictionaryPageOffset < start {
				start = *m.DictionaryPageOffset
			}
			if start > dataEnd || m.TotalCompressedSize > dataEnd-start+footerLen {
				return repairs{}, short("%s: chunk at bytes %d+%d ends past the data region (%d bytes)", where, start, m.TotalCompressedSize, dataEnd)
			}
			if m.TotalCompressedSize > dataEnd-start {
				if rep.clamped == nil {
					rep.clamped = map[int][]int{}
				}
				rep.clamped[j] = append(rep.clamped[j], i)
				rep.notes = append(rep.notes, fmt.Sprintf("%s: chunk at bytes %d+%d reaches %d bytes into the footer; read up to the end of the data region, as pyarrow reads it",
					where, start, m.TotalCompressedSize, m.TotalCompressedSize-(dataEnd-start)))
				m.TotalCompressedSize = dataEnd - start
			}
			outside := func(off *int64, n *int32) bool {
				return off != nil && (*off < 0 || *off > dataEnd || (n != nil && (*n < 0 || int64(*n) > dataEnd-*off)))
			}
			if outside(cc.ColumnIndexOffset, cc.ColumnIndexLength) || outside(cc.OffsetIndexOffset, cc.OffsetIndexLength) {
				rep.notes = append(rep.notes, fmt.Sprintf("%s: page index outside the data region; ignored (never read here)", where))
				cc.ColumnIndexOffset, cc.ColumnIndexLength, cc.OffsetIndexOffset, cc.OffsetIndexLength = nil, nil, nil, nil
			}
			if outside(m.BloomFilterOffset, m.BloomFilterLength) {
				rep.notes = append(rep.notes, fmt.Sprintf("%s: bloom filter outside the data region; ignored (never read here)", where))
				m.BloomFilterOffset, m.BloomFilterLength = nil, nil
			}
		}
	}
	if sum != total {
		rep.notes = append(rep.notes, fmt.Sprintf("footer says %d rows, its row groups hold %d; reading the row groups' %d, as pyarrow and parquet-java do", total, sum, sum))
		md.NumRows = sum
	}
	return rep, nil
}

// shortError is data missing from an object whose footer is intact; classify
// reports it as ErrIncomplete.
type shortError struct{ error }

func short(format string, args ...any) error {
	return &shortError{fmt.Errorf(format, args...)}
}

// dryRunNested decodes, on the calling goroutine, every leaf column that sits
// below a struct, exactly as pqarrow's leaf reader will (record reader, page
// reader, every row group), and discards the values. pqarrow loads struct
// children in goroutines of its own (errgroup, even with Parallel off), where a
// decoder panic on a corrupt page cannot be recovered and would end the
// process; here it is recovered as ErrMalformed before any row is emitted.
// The cost is a second read of those columns only; flat columns are decoded
// once, on the calling goroutine, by ReadBatches itself.
func dryRunNested(fr *pqarrow.FileReader) error {
	all := make([]int, fr.ParquetReader().NumRowGroups())
	for i := range all {
		all[i] = i
	}
	return dryRun(fr, func(_ pqarrow.SchemaField, underStruct bool) []int {
		if underStruct {
			return all
		}
		return nil
	})
}

// dryRunClamped decodes the chunks vetMetadata clamped to the data region,
// discarding the values: a page that runs past the data fails here, before
// any row of the object is emitted.
func dryRunClamped(fr *pqarrow.FileReader, clamped map[int][]int) error {
	if len(clamped) == 0 {
		return nil
	}
	return dryRun(fr, func(sf pqarrow.SchemaField, _ bool) []int { return clamped[sf.ColIndex] })
}

// dryRun decodes, on the calling goroutine, the row groups pick returns for
// each leaf column (none: skipped), exactly as pqarrow's leaf reader will.
func dryRun(fr *pqarrow.FileReader, pick func(leaf pqarrow.SchemaField, underStruct bool) []int) error {
	type job struct {
		leaf      pqarrow.SchemaField
		rowGroups []int
	}
	var jobs []job
	var walk func(sf pqarrow.SchemaField, underStruct bool)
	walk = func(sf pqarrow.SchemaField, underStruct bool) {
		if len(sf.Children) == 0 {
			if sf.IsLeaf() {
				if rgs := pick(sf, underStruct); len(rgs) > 0 {
					jobs = append(jobs, job{sf, rgs})
				}
			}
			return
		}
		isStruct := underStruct || sf.Field.Type.ID() == arrow.STRUCT ||
			(sf.Field.Type.ID() == arrow.EXTENSION && sf.Field.Type.(arrow.ExtensionType).StorageType().ID() == arrow.STRUCT)
		for _, c := range sf.Children {
			walk(c, isStruct)
		}
	}
	for _, sf := range fr.Manifest.Fields {
		walk(sf, false)
	}
	pf := fr.ParquetReader()
	const chunk = 4096
	for _, jb := range jobs {
		leaf := jb.leaf
		descr := pf.MetaData().Schema.Column(leaf.ColIndex)
		rr := file.NewRecordReader(descr, leaf.LevelInfo, leaf.Field.Type, memory.DefaultAllocator, pf.BufferPool())
		err := func() error {
			defer rr.Release()
			for _, i := range jb.rowGroups {
				if err := dryRunRowGroup(pf, rr, leaf.ColIndex, i, chunk); err != nil {
					return fmt.Errorf("row group %d, column %q: %w", i, descr.Path(), err)
				}
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

func dryRunRowGroup(pf *file.Reader, rr file.RecordReader, col, i int, chunk int64) error {
	pr, err := pf.RowGroup(i).GetColumnPageReader(col)
	if err != nil {
		return err
	}
	rr.SetPageReader(pr)
	// Never more records than the row group holds: a corrupt page
	// header can claim billions of values.
	for left := pf.MetaData().RowGroups[i].NumRows; left > 0 && rr.HasMore(); {
		rr.Reset()
		k := min(left, chunk)
		if err := rr.Reserve(k); err != nil {
			return err
		}
		n, err := rr.ReadRecords(k)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		left -= n
	}
	return nil
}
