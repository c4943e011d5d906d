package client_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// memAPI is an in-memory bucket without HTTP: listings in one page, ranged
// GETs served from the stored bytes. onGet, when set, sees every GET first
// (the key and the first byte of its range).
type memAPI struct {
	objects map[string][]byte
	onGet   func(key string, from int64)
}

func (m *memAPI) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	keys := make([]string, 0, len(m.objects))
	for k := range m.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{}
	for _, k := range keys {
		out.Contents = append(out.Contents, types.Object{
			Key: aws.String(k), Size: aws.Int64(int64(len(m.objects[k]))),
			ETag: aws.String(`"` + k + `"`), LastModified: aws.Time(time.Unix(1_700_000_000, 0)),
		})
	}
	return out, nil
}

func (m *memAPI) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	data, ok := m.objects[key]
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	var from, to int64
	if _, err := fmt.Sscanf(aws.ToString(in.Range), "bytes=%d-%d", &from, &to); err != nil {
		return nil, fmt.Errorf("range %q: %w", aws.ToString(in.Range), err)
	}
	if m.onGet != nil {
		m.onGet(key, from)
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data[from : to+1]))}, nil
}
