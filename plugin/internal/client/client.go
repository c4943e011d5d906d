// Package client implements the CloudQuery source client: table discovery at
// Init and streaming of Parquet rows at Sync.
package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/cloudquery/plugin-sdk/v4/state"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/infobloxopen/cq-source-s3/internal/cursor"
	"github.com/infobloxopen/cq-source-s3/internal/discovery"
	"github.com/infobloxopen/cq-source-s3/internal/parquetio"
	"github.com/infobloxopen/cq-source-s3/internal/shard"
	"github.com/infobloxopen/cq-source-s3/internal/spec"
)

// API is the subset of the S3 client the plugin uses; tests substitute wrappers.
type API interface {
	discovery.Lister
	parquetio.Getter
}

// StateFactory connects to the CloudQuery state backend of a sync.
type StateFactory func(context.Context, *plugin.BackendOptions) (state.Client, error)

// Option customises a Client.
type Option func(*Client)

// WithMaxRecordBytes bounds the buffers of one record sent to the destination
// (default parquetio.DefaultBatchBytes); tests use a small bound.
func WithMaxRecordBytes(n int64) Option { return func(c *Client) { c.maxRecordBytes = n } }

// WithStateFactory replaces the gRPC state-backend connection (tests).
func WithStateFactory(f StateFactory) Option { return func(c *Client) { c.newState = f } }

// WithAdmissionHook calls f with every object's weight when it is admitted
// under the byte budget (admitted true, before any column data is read) and
// when it leaves it (admitted false); tests check the bound with it.
func WithAdmissionHook(f func(key string, weight int64, admitted bool)) Option {
	return func(c *Client) { c.admission = f }
}

// Client is a configured source. Between syncs it keeps nothing but the
// discovered tables; incremental positions live in the state backend.
type Client struct {
	plugin.UnimplementedDestination

	logger   zerolog.Logger
	spec     spec.Spec
	api      API
	tables   schema.Tables
	newState StateFactory
	// maxRecordBytes bounds one record's buffers; 0 means parquetio.DefaultBatchBytes.
	maxRecordBytes int64
	// admission observes the byte budget (tests); nil in production.
	admission func(key string, weight int64, admitted bool)
}

// New discovers the tables of the bucket. With noConnection (the CLI asks for
// the spec schema or docs), it does not touch S3 and reports no tables.
func New(ctx context.Context, logger zerolog.Logger, s spec.Spec, api API, noConnection bool, opts ...Option) (*Client, error) {
	c := &Client{logger: logger, spec: s, api: api, newState: state.NewConnectedClient}
	for _, o := range opts {
		o(c)
	}
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
				sc, notes, err := parquetio.Schema(gctx, c.api, c.bucketObject(o))
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					c.logger.Warn().Err(err).Str("table", name).Str("key", o.Key).Msg("cannot read schema; trying the next object")
					continue
				}
				for _, n := range notes {
					c.logger.Warn().Str("table", name).Str("key", o.Key).Msg(n)
				}
				desc := fmt.Sprintf("Parquet objects under s3://%s/%s (schema from %s)", c.spec.Bucket, c.spec.PathPrefix, o.Key)
				tbl := tableFromSchema(name, desc, sc, c.spec.Incremental)
				// The SDK refuses the whole plugin at Init over one bad table: vet here.
				if err := usable(tbl); err != nil {
					c.logger.Warn().Err(err).Str("table", name).Str("key", o.Key).Msg("unusable schema; trying the next object")
					continue
				}
				found[i] = tbl
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
// object of those tables, reading up to spec.Concurrency objects at once and
// at most spec.MaxBytesInFlight of their estimated footprints (footprint).
// With --shard N/M it reads only the objects shard N owns (shard.Owner).
// Bad objects are logged and skipped; only cancellation, a failed listing,
// invalid shard input or unusable incremental state ends the sync with an error.
func (c *Client) Sync(ctx context.Context, opts plugin.SyncOptions, res chan<- message.SyncMessage) error {
	sh, err := shard.FromOptions(opts.Shard)
	if err != nil {
		return err
	}
	if len(c.tables) == 0 {
		c.logger.Warn().Str("path_prefix", c.spec.PathPrefix).Msg("no tables discovered at Init; nothing to sync")
		return nil
	}
	tables, err := c.tables.FilterDfs(opts.Tables, opts.SkipTables, opts.SkipDependentTables)
	if err != nil {
		return fmt.Errorf("select tables: %w", err)
	}
	// Every shard announces every selected table, so all of them agree on the
	// destination's schemas whichever objects they own.
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

	st, err := c.openState(ctx, opts.BackendOptions)
	if err != nil {
		return err
	}
	if st != nil {
		defer func() { _ = st.Close() }()
	}
	owned := make(map[string][]discovery.Object, len(tables))
	positions := make(map[string]cursor.Position, len(tables))
	selected := make(map[string][]discovery.Object, len(tables))
	for _, t := range tables {
		for _, o := range groups[t.Name] {
			if sh.Owns(t.Name, o.Key) {
				owned[t.Name] = append(owned[t.Name], o)
			}
		}
		selected[t.Name] = owned[t.Name]
		if st != nil {
			pos, err := c.resolvePosition(ctx, st, t.Name, sh)
			if err != nil {
				return err
			}
			positions[t.Name] = pos
			selected[t.Name] = pos.Select(owned[t.Name])
		}
		if sh.Total > 1 {
			c.logger.Info().Str("table", t.Name).Str("shard", sh.String()).Int("owned", len(owned[t.Name])).
				Int("objects", len(groups[t.Name])).Int("selected", len(selected[t.Name])).Msg("shard's objects")
		}
	}

	fetched := &fetchCounter{api: c.api}
	budget := &byteBudget{sem: semaphore.NewWeighted(c.spec.MaxBytesInFlight), limit: c.spec.MaxBytesInFlight, hook: c.admission, logger: c.logger}
	c.logger.Debug().Int("concurrency", c.spec.Concurrency).Int64("max_bytes_in_flight", c.spec.MaxBytesInFlight).Msg("reading objects")
	var mu sync.Mutex
	stats := make(map[string]*tableStats, len(tables))
	retry := make(map[string]bool) // keys whose failure may be transient
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.spec.Concurrency)
	for _, t := range tables {
		ts := &tableStats{}
		stats[t.Name] = ts
		arrowSchema := t.ToArrowSchema()
		for _, o := range selected[t.Name] {
			g.Go(func() error {
				rows, err := c.syncObject(gctx, fetched, t, arrowSchema, o, budget, res)
				mu.Lock()
				defer mu.Unlock()
				ts.Rows += rows
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					ts.Skipped++
					transient := !parquetio.Permanent(err) && !errors.Is(err, errSchemaMismatch)
					retry[o.Key] = transient
					c.logger.Warn().Err(err).Str("table", t.Name).Str("key", o.Key).Int64("rows_sent", rows).Bool("transient", transient).Msg("skipping object")
					return nil
				}
				ts.Objects++
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if st != nil {
		if err := c.saveCursors(ctx, st, tables, positions, owned, selected, func(k string) bool { return retry[k] }); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(stats))
	for n := range stats {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ts := stats[n]
		c.logger.Info().Str("table", n).Int("objects", ts.Objects).Int("skipped", ts.Skipped).Int64("rows", ts.Rows).Msg("table synced")
	}
	c.logger.Info().Int64("gets", fetched.gets.Load()).Int64("bytes_fetched", fetched.bytes.Load()).Msg("objects read")
	return nil
}

// openState connects to the state backend when the spec asks for incremental
// syncs; nil means a full sync.
func (c *Client) openState(ctx context.Context, backend *plugin.BackendOptions) (state.Client, error) {
	if !c.spec.Incremental {
		return nil, nil
	}
	if backend == nil || (backend.Connection == "" && backend.TableName == "") {
		c.logger.Warn().Msg(`"incremental" is set but the source has no backend_options; reading every object`)
		return nil, nil
	}
	st, err := c.newState(ctx, backend)
	if err != nil {
		return nil, fmt.Errorf("incremental sync: connect to state backend %q: %w", backend.TableName, err)
	}
	return st, nil
}

// resolvePosition reads where shard sh of table stands (cursor.Resolve).
func (c *Client) resolvePosition(ctx context.Context, st state.Client, table string, sh shard.Shard) (cursor.Position, error) {
	get := func(key string) (string, error) { return st.GetKey(ctx, key) }
	pos, err := cursor.Resolve(get, c.spec.Bucket, c.spec.PathPrefix, table, sh)
	if err != nil {
		return cursor.Position{}, err
	}
	for _, n := range pos.Notes {
		c.logger.Warn().Str("table", table).Str("shard", sh.String()).Msg(n)
	}
	if pos.Migrating() {
		c.logger.Info().Str("table", table).Str("shard", sh.String()).Int("generation", pos.Generation.ID).
			Msg("shard count changed: deciding this shard's objects from the previous shards' cursors")
	}
	return pos, nil
}

func (c *Client) saveCursors(ctx context.Context, st state.Client, tables schema.Tables, positions map[string]cursor.Position,
	owned, selected map[string][]discovery.Object, retry func(string) bool,
) error {
	for _, t := range tables {
		pos := positions[t.Name]
		next := pos.Advance(owned[t.Name], selected[t.Name], retry)
		if err := st.SetKey(ctx, pos.Key, next.String()); err != nil {
			return fmt.Errorf("incremental sync: write cursor %q: %w", pos.Key, err)
		}
		if pos.Layout != "" {
			key := cursor.LayoutKey(c.spec.Bucket, c.spec.PathPrefix, t.Name)
			if err := st.SetKey(ctx, key, pos.Layout); err != nil {
				return fmt.Errorf("incremental sync: write shard layout %q: %w", key, err)
			}
		}
	}
	if err := st.Flush(ctx); err != nil {
		return fmt.Errorf("incremental sync: flush state: %w", err)
	}
	return nil
}

// syncObject streams one object. Rows already sent when a later page turns
// out corrupt stay sent; the returned count says how many.
//
// Once the footer is read, the object waits for its footprint under the byte
// budget. It is then decoded in batches of decodeRows rows (larger than
// rows_per_record: per-batch decoding costs dominate at a few hundred rows),
// each sent as zero-copy slices of at most rows_per_record rows.
func (c *Client) syncObject(ctx context.Context, api parquetio.Getter, t *schema.Table, sc *arrow.Schema, o discovery.Object, budget *byteBudget, res chan<- message.SyncMessage) (int64, error) {
	check := func(file *arrow.Schema) error { return compatible(t, file) }
	per := int64(c.spec.RowsPerRecord)
	admit := func(ctx context.Context, md *metadata.FileMetaData) (int64, func(), error) {
		rows := decodeRows(md, per)
		release, err := budget.acquire(ctx, o.Key, footprint(md, rows))
		return rows, release, err
	}
	emit := func(rec arrow.RecordBatch) error {
		n := rec.NumRows()
		for from := int64(0); from < n; from += per {
			to := min(n, from+per)
			if err := send(ctx, res, &message.SyncInsert{Record: relabel(sc, rec, from, to)}); err != nil {
				return err
			}
		}
		return nil
	}
	warn := func(note string) { c.logger.Warn().Str("table", t.Name).Str("key", o.Key).Msg(note) }
	opts := parquetio.ReadOptions{BatchRows: per, BatchBytes: c.maxRecordBytes, Target: sc, Admit: admit, Warn: warn}
	rows, err := parquetio.ReadBatches(ctx, api, c.bucketObject(o), opts, check, emit)
	if err != nil && errors.Is(err, parquetio.ErrVanished) {
		return rows, fmt.Errorf("object vanished after listing: %w", err)
	}
	return rows, err
}

// relabel returns rows [from, to) of rec under the table's schema (name
// metadata, nullability); the columns are shared, not copied.
func relabel(sc *arrow.Schema, rec arrow.RecordBatch, from, to int64) arrow.RecordBatch {
	if from == 0 && to == rec.NumRows() {
		return array.NewRecordBatch(sc, rec.Columns(), to)
	}
	cols := make([]arrow.Array, rec.NumCols())
	for i, col := range rec.Columns() {
		cols[i] = array.NewSlice(col, from, to)
	}
	out := array.NewRecordBatch(sc, cols, to-from)
	for _, col := range cols {
		col.Release()
	}
	return out
}

// Decoding batches: about decodeBytes of decoded data, at most
// maxDecodeRows rows, and never fewer rows than a record holds.
const (
	decodeBytes   = 4 << 20
	maxDecodeRows = 64 << 10
)

// decodeRows is the number of rows to decode at a time: about decodeBytes
// at the widest row group's bytes per row, between per and maxDecodeRows
// (rows_per_record above maxDecodeRows is decoded as asked; the reader still
// splits records over the byte bound).
func decodeRows(md *metadata.FileMetaData, per int64) int64 {
	var width int64 = 1
	for i := 0; i < md.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		if n := rg.NumRows(); n > 0 {
			width = max(width, max(rg.TotalByteSize(), compressedBytes(rg))/n)
		}
	}
	return max(per, min(maxDecodeRows, decodeBytes/width))
}

// footprint estimates the memory reading an object takes, from its footer.
// Column data is streamed, not fetched whole: per leaf column, the read
// buffer and three page-sized buffers (the compressed and the decompressed
// page arrow-go keeps, a decoded dictionary); plus the batch of rows being
// decoded, the builders it is decoded into and the record conformed from it
// (three times rows at the widest row group's bytes per row); all of it twice,
// as Go's collector lets the heap grow to twice what is live before it runs
// (GOGC=100), so the budget bounds resident memory, not only live bytes. It
// does not grow with row-group size. Footers can lie: the budget caps it.
func footprint(md *metadata.FileMetaData, rows int64) int64 {
	rows = min(rows, max(md.GetNumRows(), 0))
	var width int64
	for i := 0; i < md.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		if n := rg.NumRows(); n > 0 {
			width = max(width, max(rg.TotalByteSize(), 0)/n)
		}
	}
	page := min(parquetio.TypicalPage, parquetio.LargestChunk(md))
	columns := int64(md.Schema.NumColumns()) * (parquetio.StreamBufferFor(md) + 3*page)
	if width > 0 && rows > math.MaxInt64/6/width {
		return math.MaxInt64
	}
	return satAdd(2*columns, 6*rows*width)
}

// compressedBytes is the size of a row group's column chunks in the file.
func compressedBytes(rg *metadata.RowGroupMetaData) int64 {
	var n int64
	for j := 0; j < rg.NumColumns(); j++ {
		if cc, err := rg.ColumnChunk(j); err == nil {
			n = satAdd(n, max(cc.TotalCompressedSize(), 0))
		}
	}
	return n
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// byteBudget admits objects while the sum of their weights stays within
// limit. A weight over the limit is capped to it, so such an object is read
// alone rather than never. The semaphore is FIFO: a heavy object waiting
// holds back lighter ones behind it, so it is not starved.
type byteBudget struct {
	sem    *semaphore.Weighted
	limit  int64
	hook   func(key string, weight int64, admitted bool)
	logger zerolog.Logger
}

func (b *byteBudget) acquire(ctx context.Context, key string, weight int64) (func(), error) {
	if weight > b.limit {
		b.logger.Info().Str("key", key).Int64("estimate", weight).Int64("max_bytes_in_flight", b.limit).
			Msg("object estimated above max_bytes_in_flight; reading it alone")
	}
	weight = min(max(weight, 1), b.limit)
	if err := b.sem.Acquire(ctx, weight); err != nil {
		return nil, err
	}
	if b.hook != nil {
		b.hook(key, weight, true)
	}
	return func() {
		if b.hook != nil {
			b.hook(key, weight, false)
		}
		b.sem.Release(weight)
	}, nil
}

func send(ctx context.Context, res chan<- message.SyncMessage, m message.SyncMessage) error {
	select {
	case res <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
