// Package parquetio reads Parquet objects from S3 as Arrow data without
// downloading them whole: the footer and column chunks are fetched with ranged GETs.
package parquetio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/infobloxopen/cq-source-s3/internal/drift"
)

// Getter is the part of the S3 API reading needs.
type Getter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// ErrVanished marks an object that was listed but no longer exists.
var ErrVanished = errors.New("object no longer exists")

// ErrMalformed marks an object that is not readable Parquet.
var ErrMalformed = errors.New("malformed parquet")

// ErrIncomplete marks an object that holds fewer rows than its footer promises
// (a truncated data region, or a column that ends early). It is not permanent:
// the object may still be being written or replaced, so an incremental cursor
// stays before it.
var ErrIncomplete = errors.New("incomplete parquet")

// ErrTooLarge marks an object with a single row larger than a record may be.
var ErrTooLarge = errors.New("row too large")

// ErrConversion marks an object with a value that does not convert to the
// table's type (ReadOptions.Target), such as a timestamp beyond the
// microsecond range.
var ErrConversion = errors.New("value does not convert to the table's type")

// Permanent reports whether retrying cannot help: the object is gone or its
// bytes are bad. Anything else (a throttled or failed GET) may succeed later.
func Permanent(err error) bool {
	return errors.Is(err, ErrVanished) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrConversion)
}

// Object identifies one object to read. Size comes from the listing, so no HEAD is needed.
type Object struct {
	Bucket string
	Key    string
	Size   int64
}

// DefaultBatchBytes bounds the buffers of one emitted record. The SDK drops
// (with an error log) any message over 100 MiB, and an Arrow IPC message over
// 2 GiB cannot be encoded at all; records are split well below both.
const DefaultBatchBytes int64 = 64 << 20

// StreamBuffer is the read buffer of one column chunk being decoded, and so
// the size of most ranged GETs of column data: about one GET per MiB (a page
// larger than what a refill leaves is read directly, in one more GET).
// Smaller buffers save little memory (arrow-go keeps a compressed and a
// decompressed page per column anyway) and cost many more GETs: 64 KiB made
// ten times as many for the same bytes.
const StreamBuffer = 1 << 20

// minStreamBuffer is the least read buffer (an object of tiny chunks).
const minStreamBuffer = 4 << 10

// TypicalPage is the page size of common writers (parquet-mr, pyarrow,
// arrow-go, DuckDB write pages of about 1 MiB); footers do not say.
const TypicalPage = 1 << 20

// StreamBufferFor is the read buffer per column of an object: StreamBuffer,
// or its largest column chunk when smaller (every column gets one).
func StreamBufferFor(md *metadata.FileMetaData) int64 {
	return min(StreamBuffer, max(minStreamBuffer, LargestChunk(md)))
}

// LargestChunk is the largest column chunk of an object, in bytes as stored.
func LargestChunk(md *metadata.FileMetaData) int64 {
	var largest int64
	for i := 0; i < md.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		for j := 0; j < rg.NumColumns(); j++ {
			if cc, err := rg.ColumnChunk(j); err == nil {
				largest = max(largest, cc.TotalCompressedSize())
			}
		}
	}
	return largest
}

// ReadOptions bounds the records ReadBatches emits.
type ReadOptions struct {
	// BatchRows is the maximum number of rows per record (at least 1).
	BatchRows int64
	// BatchBytes is the maximum size of a record's buffers; 0 means DefaultBatchBytes.
	BatchBytes int64
	// Target, when set, is the schema every record is converted to before it
	// is split and emitted (drift.Conform, column by column in order): the
	// table's types when they differ from the file's. check must have
	// accepted the file's schema against it (drift.Check). A value that does
	// not convert fails the object with ErrConversion.
	Target *arrow.Schema
	// Admit, when set, is called once the footer is read and before any
	// column data is. It may wait (a memory budget) and may choose the batch
	// rows from the footer (0 keeps BatchRows); release is called when
	// reading ends. An error ends the read with nothing emitted.
	Admit func(ctx context.Context, md *metadata.FileMetaData) (batchRows int64, release func(), err error)
	// Warn, when set, receives a note for each inconsistency the reader
	// repaired or worked around (see vetMetadata), before any row is read.
	Warn func(note string)
}

// Schema returns the Arrow schema of a Parquet object (from its footer only),
// and a note per column read other than its annotation says (a logical type
// arrow-go cannot read falls back to the physical type).
func Schema(ctx context.Context, api Getter, obj Object) (sc *arrow.Schema, notes []string, err error) {
	defer recoverTo(&err, obj)
	pf, ra, rep, err := open(ctx, api, obj)
	if err != nil {
		return nil, nil, err
	}
	notes = rep.notes
	defer func() { _ = pf.Close() }()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, nil, classify(ctx, ra, err)
	}
	sc, err = fr.Schema()
	if err != nil {
		return nil, nil, classify(ctx, ra, err)
	}
	int96, err := int96Fields(fr)
	if err != nil {
		return nil, nil, classify(ctx, ra, err)
	}
	return withAnnotated(withInt96Micros(sc, int96), annotatedFields(fr, sc)), notes, nil
}

// ReadBatches streams the rows of obj as record batches of at most
// opts.BatchRows rows and opts.BatchBytes bytes. check vets the file's schema
// before any row is read; emit receives each batch (valid only during the
// call; Retain it to keep it). It returns the number of rows emitted, also on
// error.
//
// The rows emitted equal the footer's row count, or ReadBatches fails: the
// footer is checked against the object before any row is read (a data region
// shorter than the footer promises is ErrIncomplete, with nothing emitted), and
// every column must deliver every row the footer promises. A page that fails
// to decode part-way still fails the object after earlier batches were
// emitted; the count says how many.
//
// Decoding runs on the calling goroutine (arrow-go's parallel reading is off,
// and the column readers are built here), so a decoder panic is recovered as
// ErrMalformed. arrow-go still reads struct children in goroutines of its own:
// the metadata they use is validated, and those columns are decoded once here
// first (dryRunNested), so that a corrupt page fails here, not there.
func ReadBatches(ctx context.Context, api Getter, obj Object, opts ReadOptions,
	check func(*arrow.Schema) error, emit func(arrow.RecordBatch) error,
) (rows int64, err error) {
	defer recoverTo(&err, obj)
	if opts.BatchRows < 1 {
		return 0, fmt.Errorf("batch rows %d: must be at least 1", opts.BatchRows)
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = DefaultBatchBytes
	}
	pf, ra, rep, err := open(ctx, api, obj)
	if err != nil {
		return 0, err
	}
	defer func() { _ = pf.Close() }()
	if opts.Warn != nil {
		for _, n := range rep.notes {
			opts.Warn(n)
		}
	}
	if opts.Admit != nil {
		batchRows, release, err := opts.Admit(ctx, pf.MetaData())
		if err != nil {
			return 0, err
		}
		defer release()
		if batchRows > 0 {
			opts.BatchRows = batchRows
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: opts.BatchRows}, memory.DefaultAllocator)
	if err != nil {
		return 0, classify(ctx, ra, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return 0, classify(ctx, ra, err)
	}
	int96, err := int96Fields(fr)
	if err != nil {
		return 0, classify(ctx, ra, err)
	}
	annotated := annotatedFields(fr, sc)
	sc = withAnnotated(withInt96Micros(sc, int96), annotated)
	if err := check(sc); err != nil {
		return 0, err
	}
	total := pf.NumRows()
	if total == 0 {
		return 0, nil
	}
	if err := dryRunNested(fr); err != nil {
		return 0, classify(ctx, ra, err)
	}
	if err := dryRunClamped(fr, rep.clamped); err != nil {
		// Its pages run on past the data: the object is shorter than its footer says.
		return 0, classify(ctx, ra, short("%v: its pages run past the data region, into the footer its size reaches", err))
	}
	readers, sc, err := fieldReaders(ctx, fr, sc, int96, annotated)
	if err != nil {
		return 0, classify(ctx, ra, err)
	}
	defer func() {
		for _, r := range readers {
			r.Release()
		}
	}()
	want := opts.BatchRows
	for rows < total {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		n := min(want, total-rows)
		tbl, err := readTable(readers, sc, n, rows, total)
		if err != nil {
			return rows, classify(ctx, ra, err)
		}
		if opts.Target != nil {
			conv, err := conformTable(tbl, opts.Target)
			tbl.Release()
			if err != nil {
				return rows, fmt.Errorf("%w: s3://%s/%s: at row %d: %w", ErrConversion, obj.Bucket, obj.Key, rows, err)
			}
			tbl = conv
		}
		size := tableBytes(tbl)
		sent, err := emitTable(tbl, opts.BatchBytes, emit)
		tbl.Release()
		rows += sent
		if errors.Is(err, ErrTooLarge) {
			return rows, fmt.Errorf("s3://%s/%s: at row %d: %w", obj.Bucket, obj.Key, rows, err)
		}
		if err != nil {
			return rows, err
		}
		// Decode about one record's worth of bytes next time.
		if size > opts.BatchBytes {
			want = max(1, n*opts.BatchBytes/size)
		} else {
			want = min(opts.BatchRows, want*2)
		}
	}
	return rows, nil
}

// fieldReaders builds one reader per top-level field on this goroutine
// (pqarrow.GetFieldReaders would start a goroutine per field). Every column
// chunk's metadata is materialised first, here, so that arrow-go's own
// goroutines for struct children meet no metadata they could panic on.
func fieldReaders(ctx context.Context, fr *pqarrow.FileReader, sc *arrow.Schema, int96 map[int]bool, annotated map[int]arrow.DataType) ([]columnReader, *arrow.Schema, error) {
	pf := fr.ParquetReader()
	ncols := pf.MetaData().Schema.NumColumns()
	rowGroups := make([]int, pf.NumRowGroups())
	for i := range rowGroups {
		rowGroups[i] = i
		rg := pf.RowGroup(i)
		for j := 0; j < ncols; j++ {
			if _, err := rg.MetaData().ColumnChunk(j); err != nil {
				return nil, nil, fmt.Errorf("row group %d, column %d: %w", i, j, err)
			}
		}
	}
	leaves := make(map[int]bool, ncols)
	for j := 0; j < ncols; j++ {
		leaves[j] = true
	}
	readers := make([]columnReader, 0, sc.NumFields())
	fields := make([]arrow.Field, 0, sc.NumFields())
	for i, f := range sc.Fields() {
		if int96[i] {
			r := newInt96Reader(pf, fr.Manifest.Fields[i].ColIndex, f)
			readers = append(readers, r)
			fields = append(fields, *r.Field())
			continue
		}
		r, err := fr.GetFieldReader(ctx, i, leaves, rowGroups)
		if err == nil && r == nil {
			err = fmt.Errorf("column %q has no readable leaf", f.Name)
		}
		if err != nil {
			for _, r := range readers {
				r.Release()
			}
			return nil, nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
		var cr columnReader = r
		if t, ok := annotated[i]; ok {
			f := *r.Field()
			f.Type = t
			cr = &relabelReader{columnReader: r, field: f}
		}
		readers = append(readers, cr)
		fields = append(fields, *cr.Field())
	}
	md := sc.Metadata()
	return readers, arrow.NewSchema(fields, &md), nil
}

// readTable reads the next n rows of every column. A column that delivers
// fewer rows than the footer promises makes the object ErrIncomplete.
// columnReader is a pqarrow.ColumnReader or the plugin's own INT96 reader.
type columnReader interface {
	NextBatch(n int64) (*arrow.Chunked, error)
	Field() *arrow.Field
	Release()
}

// readTable decodes the next n rows of every column, columns in parallel on
// up to GOMAXPROCS goroutines of our own (each column reader has its own page
// stream), so one object uses the cores there are. A decoder panic in one of
// them is recovered there and returned as that column's error.
func readTable(readers []columnReader, sc *arrow.Schema, n, done, total int64) (arrow.Table, error) {
	chunks := make([]*arrow.Chunked, len(readers))
	errs := make([]error, len(readers))
	defer func() {
		for _, c := range chunks {
			if c != nil {
				c.Release()
			}
		}
	}()
	decode := func(i int) {
		defer func() {
			if r := recover(); r != nil {
				errs[i] = panicError(r)
			}
		}()
		chunks[i], errs[i] = readers[i].NextBatch(n)
	}
	if workers := min(len(readers), runtime.GOMAXPROCS(0)); workers <= 1 {
		for i := range readers {
			decode(i)
		}
	} else {
		next := make(chan int, len(readers))
		for i := range readers {
			next <- i
		}
		close(next)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := range next {
					decode(i)
				}
			})
		}
		wg.Wait()
	}
	cols := make([]arrow.Column, 0, len(readers))
	defer func() {
		for i := range cols {
			cols[i].Release()
		}
	}()
	for i, chunked := range chunks {
		if errs[i] != nil {
			return nil, fmt.Errorf("column %q at row %d: %w", sc.Field(i).Name, done, errs[i])
		}
		if got := int64(chunked.Len()); got != n {
			return nil, short("column %q ends after %d of the %d rows the footer promises",
				sc.Field(i).Name, done+got, total)
		}
		cols = append(cols, *arrow.NewColumn(sc.Field(i), chunked))
	}
	return array.NewTable(sc, cols, n), nil
}

// panicError is a recovered decoder panic as an error: a refused buffer as
// itself, anything else with its stack.
func panicError(r any) error {
	if big, ok := r.(*bufferTooLarge); ok {
		return big
	}
	return fmt.Errorf("decoder panic: %v\n%s", r, debug.Stack())
}

func open(ctx context.Context, api Getter, obj Object) (*file.Reader, *rangeReader, repairs, error) {
	ra := &rangeReader{ctx: ctx, api: api, obj: obj}
	md, dataEnd, notes, err := readFooter(ra)
	if err != nil {
		return nil, ra, repairs{}, classify(ctx, ra, err)
	}
	rep, err := vetMetadata(md, dataEnd, obj.Size-footerTail-dataEnd)
	if err != nil {
		return nil, ra, repairs{}, classify(ctx, ra, err)
	}
	rep.notes = append(notes, rep.notes...)
	props := parquet.NewReaderProperties(boundedAllocator{Allocator: memory.DefaultAllocator, limit: pageBound(obj.Size)})
	// Pages are streamed (StreamBuffer) instead of fetching each column chunk
	// whole, so memory does not grow with row-group size. (arrow-go before 18.6 could return stale
	// bytes past the end of a chunk here: a silent wrong row with V2 pages.)
	props.BufferedStreamEnabled = true
	props.BufferSize = StreamBufferFor(md)
	pf, err := file.NewParquetReader(ra, file.WithReadProps(props), file.WithMetadata(md))
	if err != nil {
		return nil, ra, repairs{}, classify(ctx, ra, err)
	}
	return pf, ra, rep, nil
}

// classify tells apart why reading failed: cancellation, a failed GET (the
// reader remembers it, however the decoder wrapped the error: vanished or
// transient), or data the decoder rejected (malformed).
func classify(ctx context.Context, ra *rangeReader, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case ra.firstFailure() != nil:
		return ra.firstFailure()
	case errors.As(err, new(*shortError)):
		return fmt.Errorf("%w: s3://%s/%s: %w", ErrIncomplete, ra.obj.Bucket, ra.obj.Key, err)
	default:
		return fmt.Errorf("%w: s3://%s/%s: %w", ErrMalformed, ra.obj.Bucket, ra.obj.Key, err)
	}
}

// recoverTo turns a panic in the Parquet decoder (possible on corrupt input) into an error:
// one bad object must never take the whole sync down.
func recoverTo(err *error, obj Object) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: s3://%s/%s: %w", ErrMalformed, obj.Bucket, obj.Key, panicError(r))
	}
}

// getError is a failed ranged GET; it survives the decoder's error wrapping.
type getError struct {
	obj Object
	err error
}

func (e *getError) Error() string {
	return fmt.Sprintf("get s3://%s/%s: %v", e.obj.Bucket, e.obj.Key, e.err)
}

func (e *getError) Unwrap() error { return e.err }

// rangeReader is an io.ReaderAt + io.Seeker over an S3 object.
type rangeReader struct {
	ctx    context.Context
	api    Getter
	obj    Object
	pos    int64
	mu     sync.Mutex
	failed *getError // first failed GET; decoders may lose it in their own errors (under mu: columns read in parallel)
}

func (r *rangeReader) firstFailure() *getError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *rangeReader) fail(err error) error {
	ge := &getError{obj: r.obj, err: err}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed == nil {
		r.failed = ge
	}
	return ge
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	if off >= r.obj.Size {
		return 0, io.EOF
	}
	want := int64(len(p))
	if off+want > r.obj.Size {
		want = r.obj.Size - off
	}
	if want == 0 {
		return 0, nil
	}
	out, err := r.api.GetObject(r.ctx, &s3.GetObjectInput{
		Bucket: aws.String(r.obj.Bucket),
		Key:    aws.String(r.obj.Key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, off+want-1)),
	})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) || isNotFound(err) {
			err = fmt.Errorf("%w: %w", ErrVanished, err)
		}
		return 0, r.fail(err)
	}
	defer func() { _ = out.Body.Close() }()
	n, err := io.ReadFull(out.Body, p[:want])
	if err != nil {
		return n, r.fail(fmt.Errorf("read body at %d: %w", off, err))
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

func (r *rangeReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.obj.Size + offset
	default:
		return 0, fmt.Errorf("invalid whence %d", whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("negative position %d", abs)
	}
	r.pos = abs
	return abs, nil
}

// conformTable converts every column of tbl to the type of the same column
// of target (see drift).
func conformTable(tbl arrow.Table, target *arrow.Schema) (arrow.Table, error) {
	if int(tbl.NumCols()) != target.NumFields() {
		return nil, fmt.Errorf("%d columns, target schema has %d", tbl.NumCols(), target.NumFields())
	}
	cols := make([]arrow.Column, 0, tbl.NumCols())
	defer func() {
		for i := range cols {
			cols[i].Release()
		}
	}()
	for i := 0; i < int(tbl.NumCols()); i++ {
		f := target.Field(i)
		src := tbl.Column(i).Data().Chunks()
		chunks := make([]arrow.Array, 0, len(src))
		release := func() {
			for _, c := range chunks {
				c.Release()
			}
		}
		for _, c := range src {
			out, err := drift.Conform(memory.DefaultAllocator, f.Name, c, f.Type)
			if err != nil {
				release()
				return nil, err
			}
			chunks = append(chunks, out)
		}
		chunked := arrow.NewChunked(f.Type, chunks)
		release()
		cols = append(cols, *arrow.NewColumn(f, chunked))
		chunked.Release()
	}
	return array.NewTable(target, cols, tbl.NumRows()), nil
}
