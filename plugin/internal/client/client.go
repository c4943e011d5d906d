// Package client implements the CloudQuery source client: table discovery at
// Init and streaming of Parquet rows at Sync.
package client

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/infobloxopen/cq-source-s3/internal/discovery"
	"github.com/infobloxopen/cq-source-s3/internal/parquetio"
	"github.com/infobloxopen/cq-source-s3/internal/spec"
)

// API is the subset of the S3 client the plugin uses; tests substitute wrappers.
type API interface {
	discovery.Lister
	parquetio.Getter
}

// Client is a configured source. It holds no state between syncs.
type Client struct {
	plugin.UnimplementedDestination

	logger zerolog.Logger
	spec   spec.Spec
	api    API
	tables schema.Tables
}

// New discovers the tables of the bucket. With noConnection (the CLI asks for
// the spec schema or docs), it does not touch S3 and reports no tables.
func New(ctx context.Context, logger zerolog.Logger, s spec.Spec, api API, noConnection bool) (*Client, error) {
	c := &Client{logger: logger, spec: s, api: api}
	if noConnection {
		return c, nil
	}
	tables, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	c.tables = tables
	return c, nil
}

// Tables returns the discovered tables, filtered like every CloudQuery source.
// An empty bucket is not an error: the SDK asks for "*" at Init, and the
// filter would otherwise fail with "pattern * with no matches".
func (c *Client) Tables(_ context.Context, opts plugin.TableOptions) (schema.Tables, error) {
	if len(c.tables) == 0 {
		return schema.Tables{}, nil
	}
	return c.tables.FilterDfs(opts.Tables, opts.SkipTables, opts.SkipDependentTables)
}

// Close releases nothing: the S3 client has no persistent resources.
func (*Client) Close(context.Context) error { return nil }

func (c *Client) bucketObject(o discovery.Object) parquetio.Object {
	return parquetio.Object{Bucket: c.spec.Bucket, Key: o.Key, Size: o.Size}
}

// discover lists the bucket and takes each table's schema from its first
// readable object in key order (deterministic, so repeated Inits agree).
func (c *Client) discover(ctx context.Context) (schema.Tables, error) {
	objects, err := discovery.List(ctx, c.api, c.spec.Bucket, c.spec.PathPrefix)
	if err != nil {
		return nil, fmt.Errorf("discover tables: %w", err)
	}
	groups, skipped := discovery.Group(c.spec.PathPrefix, objects)
	for _, k := range skipped {
		c.logger.Warn().Str("key", k).Msg("skipping object: its key yields no valid table name")
	}
	names := discovery.TableNames(groups)
	found := make([]*schema.Table, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.spec.Concurrency)
	for i, name := range names {
		g.Go(func() error {
			for _, o := range groups[name] {
				sc, err := parquetio.Schema(gctx, c.api, c.bucketObject(o))
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					c.logger.Warn().Err(err).Str("table", name).Str("key", o.Key).Msg("cannot read schema; trying the next object")
					continue
				}
				desc := fmt.Sprintf("Parquet objects under s3://%s/%s (schema from %s)", c.spec.Bucket, c.spec.PathPrefix, o.Key)
				found[i] = tableFromSchema(name, desc, sc)
				return nil
			}
			c.logger.Warn().Str("table", name).Int("objects", len(groups[name])).Msg("no readable object; table skipped")
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("discover tables: %w", err)
	}
	tables := make(schema.Tables, 0, len(found))
	for _, t := range found {
		if t != nil {
			tables = append(tables, t)
		}
	}
	c.logger.Info().Int("tables", len(tables)).Int("objects", len(objects)).Msg("discovered tables")
	return tables, nil
}

// tableStats counts what a sync did for one table.
type tableStats struct {
	Objects, Skipped int
	Rows             int64
}

// Sync sends a migrate message per selected table, then the rows of every
// object of those tables, reading up to spec.Concurrency objects at once.
// Bad objects are logged and skipped; only cancellation or a failed listing
// ends the sync with an error.
func (c *Client) Sync(ctx context.Context, opts plugin.SyncOptions, res chan<- message.SyncMessage) error {
	if len(c.tables) == 0 {
		c.logger.Warn().Str("path_prefix", c.spec.PathPrefix).Msg("no tables discovered at Init; nothing to sync")
		return nil
	}
	tables, err := c.tables.FilterDfs(opts.Tables, opts.SkipTables, opts.SkipDependentTables)
	if err != nil {
		return fmt.Errorf("select tables: %w", err)
	}
	for _, t := range tables {
		if err := send(ctx, res, &message.SyncMigrateTable{Table: t}); err != nil {
			return err
		}
	}
	objects, err := discovery.List(ctx, c.api, c.spec.Bucket, c.spec.PathPrefix)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	groups, _ := discovery.Group(c.spec.PathPrefix, objects)

	var mu sync.Mutex
	stats := make(map[string]*tableStats, len(tables))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.spec.Concurrency)
	for _, t := range tables {
		st := &tableStats{}
		stats[t.Name] = st
		arrowSchema := t.ToArrowSchema()
		for _, o := range groups[t.Name] {
			g.Go(func() error {
				rows, err := c.syncObject(gctx, t, arrowSchema, o, res)
				mu.Lock()
				defer mu.Unlock()
				st.Rows += rows
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					st.Skipped++
					c.logger.Warn().Err(err).Str("table", t.Name).Str("key", o.Key).Int64("rows_sent", rows).Msg("skipping object")
					return nil
				}
				st.Objects++
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	names := make([]string, 0, len(stats))
	for n := range stats {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := stats[n]
		c.logger.Info().Str("table", n).Int("objects", st.Objects).Int("skipped", st.Skipped).Int64("rows", st.Rows).Msg("table synced")
	}
	return nil
}

// syncObject streams one object. Rows already sent when a later page turns
// out corrupt stay sent; the returned count says how many.
func (c *Client) syncObject(ctx context.Context, t *schema.Table, sc *arrow.Schema, o discovery.Object, res chan<- message.SyncMessage) (int64, error) {
	check := func(file *arrow.Schema) error { return compatible(t, file) }
	emit := func(rec arrow.RecordBatch) error {
		// Re-label the columns with the table's schema (name metadata, nullability).
		out := array.NewRecordBatch(sc, rec.Columns(), rec.NumRows())
		return send(ctx, res, &message.SyncInsert{Record: out})
	}
	rows, err := parquetio.ReadBatches(ctx, c.api, c.bucketObject(o), int64(c.spec.RowsPerRecord), check, emit)
	if err != nil && errors.Is(err, parquetio.ErrVanished) {
		return rows, fmt.Errorf("object vanished after listing: %w", err)
	}
	return rows, err
}

func send(ctx context.Context, res chan<- message.SyncMessage, m message.SyncMessage) error {
	select {
	case res <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
