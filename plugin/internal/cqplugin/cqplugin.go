// Package cqplugin wires the client into a CloudQuery plugin-sdk v4 plugin.
package cqplugin

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/rs/zerolog"

	"github.com/infobloxopen/cq-source-s3/internal/client"
	"github.com/infobloxopen/cq-source-s3/internal/spec"
	identity "github.com/infobloxopen/cq-source-s3/plugin"
)

// New returns the plugin reporting version (set at link time in <module>/plugin).
func New(version string) *plugin.Plugin {
	return plugin.NewPlugin(identity.Name, version, newClient,
		plugin.WithKind(identity.Kind),
		plugin.WithTeam(identity.Team),
		plugin.WithJSONSchema(spec.JSONSchema),
		plugin.WithBuildTargets(BuildTargets()),
	)
}

// BuildTargets are the SDK's default targets for `package` (linux, darwin and windows; CGO off),
// each built with identity.GoFlags, as the image's binaries are: the SDK would otherwise set
// GOFLAGS to its tags alone and drop -trimpath, and the Hub zips' linux binaries would differ from
// the image's.
func BuildTargets() []plugin.BuildTarget {
	targets := make([]plugin.BuildTarget, 0, len(plugin.DefaultBuildTargets))
	for _, t := range plugin.DefaultBuildTargets {
		targets = append(targets, plugin.BuildTarget{OS: t.OS, Arch: t.Arch, Env: []string{"GOFLAGS=" + identity.GoFlags}})
	}
	return targets
}

func newClient(ctx context.Context, logger zerolog.Logger, specBytes []byte, opts plugin.NewClientOptions) (plugin.Client, error) {
	// `package` (tables.json) and the CLI's docs ask without a spec: no bucket, so no tables.
	if opts.NoConnection && len(bytes.TrimSpace(specBytes)) == 0 {
		return client.New(ctx, logger, spec.Spec{}, nil, true)
	}
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
