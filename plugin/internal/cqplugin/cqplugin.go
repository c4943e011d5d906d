// Package cqplugin wires the client into a CloudQuery plugin-sdk v4 plugin.
package cqplugin

import (
	"context"
	"fmt"

	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/rs/zerolog"

	"github.com/infobloxopen/cq-source-s3/internal/client"
	"github.com/infobloxopen/cq-source-s3/internal/spec"
)

// Name and Team identify the plugin to the CloudQuery CLI.
const (
	Name = "s3"
	Team = "infobloxopen"
)

// New returns the plugin reporting version (set at build time in main).
func New(version string) *plugin.Plugin {
	return plugin.NewPlugin(Name, version, newClient,
		plugin.WithKind(string(plugin.KindSource)),
		plugin.WithTeam(Team),
		plugin.WithJSONSchema(spec.JSONSchema),
	)
}

func newClient(ctx context.Context, logger zerolog.Logger, specBytes []byte, opts plugin.NewClientOptions) (plugin.Client, error) {
	s, err := spec.Parse(specBytes)
	if err != nil {
		return nil, err
	}
	api, err := client.NewS3(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	return client.New(ctx, logger.With().Str("bucket", s.Bucket).Logger(), s, api, opts.NoConnection)
}
