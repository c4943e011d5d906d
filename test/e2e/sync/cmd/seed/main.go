// Command seed creates the test bucket in an S3-compatible endpoint and puts every object of
// the dataset into it through the S3 API (PutObject), as a producer of Parquet exports would.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/dataset"
)

func main() {
	endpoint := flag.String("endpoint", "", "S3 endpoint URL, e.g. http://172.17.0.1:9100 (required)")
	added := flag.Bool("added", false, "put only dataset.Added (the bucket exists): new objects for an incremental round")
	flag.Parse()
	if *endpoint == "" {
		log.Fatal("seed: -endpoint is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, *endpoint, *added); err != nil {
		log.Fatalf("seed: %v", err)
	}
}

func run(ctx context.Context, endpoint string, added bool) error {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		// The emulator accepts any key; the same pair goes into the source spec.
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			os.Getenv("S3_ACCESS_KEY_ID"), os.Getenv("S3_SECRET_ACCESS_KEY"), "")),
		// Many S3-compatible stores lack the newer flexible checksums (as in the plugin).
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	)
	if err != nil {
		return err
	}
	api := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
	files := dataset.Added()
	if !added {
		files = dataset.Files()
		if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(dataset.Bucket)}); err != nil {
			return fmt.Errorf("create bucket %q: %w", dataset.Bucket, err)
		}
	}
	for _, f := range files {
		body, err := f.Body()
		if err != nil {
			return err
		}
		if _, err := api.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(dataset.Bucket), Key: aws.String(f.Key), Body: bytes.NewReader(body),
		}); err != nil {
			return fmt.Errorf("put %s: %w", f.Key, err)
		}
		fmt.Printf("seed: put s3://%s/%s (%d bytes)\n", dataset.Bucket, f.Key, len(body))
	}
	return nil
}
