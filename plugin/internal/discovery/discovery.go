// Package discovery lists the Parquet objects of a bucket and groups them into tables.
package discovery

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/infobloxopen/cq-source-s3/internal/naming"
)

// Object is one listed Parquet object.
type Object struct {
	Key          string
	Size         int64
	ETag         string
	LastModified time.Time
}

// Lister is the part of the S3 API discovery needs.
type Lister = s3.ListObjectsV2APIClient

// List returns every Parquet object under prefix, in key order.
func List(ctx context.Context, api Lister, bucket, prefix string) ([]Object, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	var out []Object
	p := s3.NewListObjectsV2Paginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !naming.IsParquet(key) {
				continue
			}
			out = append(out, Object{
				Key:          key,
				Size:         aws.ToInt64(o.Size),
				ETag:         aws.ToString(o.ETag),
				LastModified: aws.ToTime(o.LastModified),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Group assigns objects to tables by naming.TableName, keeping key order within
// each table. Keys that yield no valid table name are returned in skipped.
func Group(prefix string, objects []Object) (tables map[string][]Object, skipped []string) {
	tables = make(map[string][]Object)
	for _, o := range objects {
		name, ok := naming.TableName(prefix, o.Key)
		if !ok {
			skipped = append(skipped, o.Key)
			continue
		}
		tables[name] = append(tables[name], o)
	}
	for _, objs := range tables {
		sort.SliceStable(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	}
	return tables, skipped
}

// TableNames returns the keys of a Group result in sorted order.
func TableNames(tables map[string][]Object) []string {
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
