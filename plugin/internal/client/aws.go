package client

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/infobloxopen/cq-source-s3/internal/spec"
)

// NewS3 builds an S3 client from the spec: the standard credential chain
// (environment, shared config/profile, web identity, container and instance
// roles) unless the spec carries static keys.
func NewS3(ctx context.Context, s spec.Spec) (*s3.Client, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(s.Region)}
	if s.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.Profile))
	}
	if s.HasStaticCredentials() {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, s.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = aws.ToBool(s.UsePathStyle)
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
			// Many S3-compatible stores do not implement the newer flexible
			// checksums; only ask for them where the API requires it.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	}), nil
}
