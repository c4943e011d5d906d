package client

import (
	"context"
	"io"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/infobloxopen/cq-source-s3/internal/parquetio"
)

// fetchCounter counts the GETs of a sync and the bytes their bodies
// delivered: what reading cost in requests and transfer (logged per sync).
type fetchCounter struct {
	api   parquetio.Getter
	gets  atomic.Int64
	bytes atomic.Int64
}

func (f *fetchCounter) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.gets.Add(1)
	out, err := f.api.GetObject(ctx, in, opts...)
	if err == nil && out.Body != nil {
		out.Body = &countingBody{ReadCloser: out.Body, n: &f.bytes}
	}
	return out, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
