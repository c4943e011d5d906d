package parquetio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/infobloxopen/cq-source-s3/internal/parquettest"
)

// memGetter serves ranged GETs from memory; with failFrom > 0, the
// failFrom-th GET and every later one fail with err.
type memGetter struct {
	data     []byte
	mu       sync.Mutex // columns are read in parallel
	gets     int
	failFrom int
	err      error
}

func (m *memGetter) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.mu.Lock()
	m.gets++
	fail := m.failFrom > 0 && m.gets >= m.failFrom
	m.mu.Unlock()
	if fail {
		return nil, m.err
	}
	var from, to int
	if _, err := fmt.Sscanf(aws.ToString(in.Range), "bytes=%d-%d", &from, &to); err != nil {
		return nil, err
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(m.data[from : to+1]))}, nil
}

func ints(t testing.TB, n int) []byte {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Append(int64(i))
	}
	col := b.NewArray()
	defer col.Release()
	tbl := array.NewTableFromSlice(sc, [][]arrow.Array{{col}})
	defer tbl.Release()
	return parquettest.Write(t, tbl, 100, nil)
}

func TestRangeReader(t *testing.T) {
	data := []byte("0123456789")
	r := &rangeReader{ctx: context.Background(), api: &memGetter{data: data}, obj: Object{Bucket: "b", Key: "k", Size: int64(len(data))}}
	tests := []struct {
		off     int64
		n       int
		want    string
		wantEOF bool
	}{
		{0, 4, "0123", false},
		{6, 4, "6789", false},
		{8, 4, "89", true},
		{10, 1, "", true},
	}
	for _, tt := range tests {
		p := make([]byte, tt.n)
		got, err := r.ReadAt(p, tt.off)
		if string(p[:got]) != tt.want || errors.Is(err, io.EOF) != tt.wantEOF {
			t.Errorf("ReadAt(%d, %d) = %q, %v", tt.off, tt.n, p[:got], err)
		}
	}
	if pos, err := r.Seek(-2, io.SeekEnd); pos != 8 || err != nil {
		t.Errorf("Seek(-2, End) = %d, %v", pos, err)
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to a negative position succeeded")
	}
}

func TestReadBatches(t *testing.T) {
	data := ints(t, 250)
	obj := Object{Bucket: "b", Key: "t/x.parquet", Size: int64(len(data))}
	accept := func(*arrow.Schema) error { return nil }
	var sizes []int64
	var sum int64
	rows, err := ReadBatches(context.Background(), &memGetter{data: data}, obj, ReadOptions{BatchRows: 100}, accept, func(rec arrow.RecordBatch) error {
		sizes = append(sizes, rec.NumRows())
		for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
			sum += v
		}
		return nil
	})
	if err != nil || rows != 250 || sum != 249*250/2 || fmt.Sprint(sizes) != "[100 100 50]" {
		t.Fatalf("rows %d, sum %d, batches %v, err %v", rows, sum, sizes, err)
	}
}

func TestReadErrorsAreClassified(t *testing.T) {
	data := ints(t, 10)
	size := int64(len(data))
	accept := func(*arrow.Schema) error { return nil }
	tests := []struct {
		name          string
		api           *memGetter
		size          int64
		check         func(*arrow.Schema) error
		wantVanished  bool
		wantMalformed bool
		wantText      string
	}{
		{"gone before the first GET", &memGetter{data: data, failFrom: 1, err: &types.NoSuchKey{}}, size, accept, true, false, "object no longer exists"},
		{"gone after the footer", &memGetter{data: data, failFrom: 3, err: &types.NoSuchKey{}}, size, accept, true, false, "object no longer exists"},
		{"throttled: transient", &memGetter{data: data, failFrom: 3, err: errors.New("503 SlowDown")}, size, accept, false, false, "503 SlowDown"},
		{"garbage", &memGetter{data: []byte("not parquet at all")}, 18, accept, false, true, "malformed parquet: s3://b/k"},
		{"schema refused", &memGetter{data: data}, size, func(*arrow.Schema) error { return errors.New("no thanks") }, false, false, "no thanks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadBatches(context.Background(), tt.api, Object{Bucket: "b", Key: "k", Size: tt.size}, ReadOptions{BatchRows: 100}, tt.check,
				func(arrow.RecordBatch) error { return nil })
			if err == nil {
				t.Fatal("want error")
			}
			if errors.Is(err, ErrVanished) != tt.wantVanished || errors.Is(err, ErrMalformed) != tt.wantMalformed ||
				!strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v (vanished=%v malformed=%v)", err, errors.Is(err, ErrVanished), errors.Is(err, ErrMalformed))
			}
			if Permanent(err) != (tt.wantVanished || tt.wantMalformed) {
				t.Fatalf("Permanent(%v) = %v", err, Permanent(err))
			}
		})
	}
}
