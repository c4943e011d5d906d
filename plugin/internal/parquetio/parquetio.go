// Package parquetio reads Parquet objects from S3 as Arrow data without
// downloading them whole: the footer and column chunks are fetched with ranged GETs.
package parquetio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Getter is the part of the S3 API reading needs.
type Getter interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// ErrVanished marks an object that was listed but no longer exists.
var ErrVanished = errors.New("object no longer exists")

// ErrMalformed marks an object that is not readable Parquet.
var ErrMalformed = errors.New("malformed parquet")

// Permanent reports whether retrying cannot help: the object is gone or its
// bytes are bad. Anything else (a throttled or failed GET) may succeed later.
func Permanent(err error) bool {
	return errors.Is(err, ErrVanished) || errors.Is(err, ErrMalformed)
}

// Object identifies one object to read. Size comes from the listing, so no HEAD is needed.
type Object struct {
	Bucket string
	Key    string
	Size   int64
}

// Schema returns the Arrow schema of a Parquet object (from its footer only).
func Schema(ctx context.Context, api Getter, obj Object) (sc *arrow.Schema, err error) {
	defer recoverTo(&err, obj)
	fr, ra, closeFn, err := open(ctx, api, obj, 0)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	sc, err = fr.Schema()
	if err != nil {
		return nil, classify(ctx, ra, err)
	}
	return sc, nil
}

// ReadBatches streams the rows of obj as record batches of at most batchSize
// rows. check vets the file's schema before any row is read; emit receives each
// batch (valid only during the call; Retain it to keep it). It returns the
// number of rows emitted, also on error.
func ReadBatches(ctx context.Context, api Getter, obj Object, batchSize int64,
	check func(*arrow.Schema) error, emit func(arrow.RecordBatch) error,
) (rows int64, err error) {
	defer recoverTo(&err, obj)
	fr, ra, closeFn, err := open(ctx, api, obj, batchSize)
	if err != nil {
		return 0, err
	}
	defer closeFn()
	sc, err := fr.Schema()
	if err != nil {
		return 0, classify(ctx, ra, err)
	}
	if err := check(sc); err != nil {
		return 0, err
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return 0, classify(ctx, ra, err)
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		if err := emit(rec); err != nil {
			return rows, err
		}
		rows += rec.NumRows()
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return rows, classify(ctx, ra, err)
	}
	return rows, nil
}

func open(ctx context.Context, api Getter, obj Object, batchSize int64) (*pqarrow.FileReader, *rangeReader, func(), error) {
	ra := &rangeReader{ctx: ctx, api: api, obj: obj}
	pf, err := file.NewParquetReader(ra, file.WithReadProps(parquet.NewReaderProperties(memory.DefaultAllocator)))
	if err != nil {
		return nil, ra, nil, classify(ctx, ra, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchSize}, memory.DefaultAllocator)
	if err != nil {
		_ = pf.Close()
		return nil, ra, nil, classify(ctx, ra, err)
	}
	return fr, ra, func() { _ = pf.Close() }, nil
}

// classify tells apart why reading failed: cancellation, a failed GET (the
// reader remembers it, however the decoder wrapped the error: vanished or
// transient), or data the decoder rejected (malformed).
func classify(ctx context.Context, ra *rangeReader, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case ra.failed != nil:
		return ra.failed
	default:
		return fmt.Errorf("%w: s3://%s/%s: %w", ErrMalformed, ra.obj.Bucket, ra.obj.Key, err)
	}
}

// recoverTo turns a panic in the Parquet decoder (possible on corrupt input) into an error:
// one bad object must never take the whole sync down.
func recoverTo(err *error, obj Object) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: s3://%s/%s: decoder panic: %v\n%s", ErrMalformed, obj.Bucket, obj.Key, r, debug.Stack())
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
	failed *getError // first failed GET; decoders may lose it in their own errors
}

func (r *rangeReader) fail(err error) error {
	ge := &getError{obj: r.obj, err: err}
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
