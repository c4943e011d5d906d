// Command destination is a TEST FIXTURE, not a product: a minimal CloudQuery destination plugin
// ("jsonl", plugin-sdk v4) that appends every inserted row, in canonical form (internal/canon),
// to <directory>/<table>.jsonl and writes each migrated table's columns to
// <directory>/<table>.schema.json. It exists because CloudQuery's own `file` destination cannot
// be fetched from the module proxy here (see docs/rehearsal.md). It supports only
// `write_mode: append`: deletes (stale or by record) are refused, never silently dropped.
// It reads tables back (utf8 and integer columns), enough to be a CloudQuery state backend
// (`backend_options`) for incremental syncs; one process may serve several CLIs at once.
//
//	destination serve --address 127.0.0.1:<port>   (or run by the CLI with registry: local)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cloudquery/plugin-sdk/v4/message"
	"github.com/cloudquery/plugin-sdk/v4/plugin"
	"github.com/cloudquery/plugin-sdk/v4/schema"
	"github.com/cloudquery/plugin-sdk/v4/serve"
	"github.com/rs/zerolog"

	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/canon"
)

type spec struct {
	Directory string `json:"directory"`
}

// Table names become file names: allow only what CloudQuery table names normally are, so a
// name can never escape the directory.
var tableName = regexp.MustCompile(`^[a-z0-9_]{1,128}$`)

type client struct {
	plugin.UnimplementedSource
	dir    string
	logger zerolog.Logger
	// mu and the files' flock make each message's write and each whole read atomic: several
	// CLIs (shards) may share one process, or several processes one directory, as state.
	mu sync.Mutex
}

func newClient(_ context.Context, logger zerolog.Logger, raw []byte, _ plugin.NewClientOptions) (plugin.Client, error) {
	var s spec
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("jsonl spec: %w", err)
	}
	if s.Directory == "" || !filepath.IsAbs(s.Directory) {
		return nil, fmt.Errorf("jsonl spec: directory must be an absolute path, got %q", s.Directory)
	}
	if err := os.MkdirAll(s.Directory, 0o750); err != nil {
		return nil, fmt.Errorf("jsonl spec: directory %q: %w", s.Directory, err)
	}
	return &client{dir: s.Directory, logger: logger}, nil
}

func (c *client) path(table, ext string) (string, error) {
	if !tableName.MatchString(table) {
		return "", fmt.Errorf("table name %q is not [a-z0-9_]+", table)
	}
	return filepath.Join(c.dir, table+ext), nil
}

func (c *client) Write(ctx context.Context, msgs <-chan message.WriteMessage) error {
	files := map[string]*os.File{}
	var errs []error
	for msg := range msgs {
		if err := c.write(files, msg); err != nil {
			// Keep draining so the SDK is not blocked; every error is reported at the end.
			errs = append(errs, err)
		}
	}
	for _, f := range files {
		errs = append(errs, f.Sync(), f.Close())
	}
	return errors.Join(errs...) // nil when all are nil
}

func (c *client) write(files map[string]*os.File, msg message.WriteMessage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch m := msg.(type) {
	case *message.WriteMigrateTable:
		p, err := c.path(m.Table.Name, ".schema.json")
		if err != nil {
			return err
		}
		b, err := json.Marshal(canon.Fields(m.Table.ToArrowSchema()))
		if err != nil {
			return err
		}
		return os.WriteFile(p, append(b, '\n'), 0o640)
	case *message.WriteInsert:
		name := m.GetTable().Name
		f, ok := files[name]
		if !ok {
			p, err := c.path(name, ".jsonl")
			if err != nil {
				return err
			}
			if f, err = os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640); err != nil {
				return err
			}
			files[name] = f
		}
		rows, err := canon.Rows(m.Record)
		if err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			return err
		}
		defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
		for _, r := range rows {
			if _, err := fmt.Fprintln(f, r); err != nil {
				return err
			}
		}
		c.logger.Debug().Str("table", name).Int("rows", len(rows)).Msg("appended")
		return nil
	default:
		return fmt.Errorf("jsonl fixture supports only migrate and insert (write_mode: append), got %T", msg)
	}
}

// Read sends back every row appended to table, as one record; no file yet means no rows.
func (c *client) Read(ctx context.Context, table *schema.Table, res chan<- arrow.RecordBatch) error {
	p, err := c.path(table.Name, ".jsonl")
	if err != nil {
		return err
	}
	c.mu.Lock()
	b, err := readLocked(p)
	c.mu.Unlock()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	rec, err := readBack(table.ToArrowSchema(), b)
	if err != nil {
		return fmt.Errorf("read %s: %w", p, err)
	}
	select {
	case res <- rec:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readLocked reads p under a shared flock, so no line being appended is seen half-written.
func readLocked(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		return nil, err
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	return io.ReadAll(f)
}

// readBack rebuilds rows written by canon.Rows for utf8, int64 and uint64 columns (what a
// state table holds); any other type is refused rather than guessed.
func readBack(sc *arrow.Schema, body []byte) (arrow.RecordBatch, error) {
	bldr := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer bldr.Release()
	for n, line := range bytes.Split(body, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var row map[string]*string
		if err := json.Unmarshal(line, &row); err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		for i, f := range sc.Fields() {
			v := row[f.Name]
			if v == nil {
				bldr.Field(i).AppendNull()
				continue
			}
			switch fb := bldr.Field(i).(type) {
			case *array.StringBuilder:
				fb.Append(*v)
			case *array.Int64Builder:
				x, err := strconv.ParseInt(*v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("line %d, column %s: %w", n+1, f.Name, err)
				}
				fb.Append(x)
			case *array.Uint64Builder:
				x, err := strconv.ParseUint(*v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("line %d, column %s: %w", n+1, f.Name, err)
				}
				fb.Append(x)
			default:
				return nil, fmt.Errorf("column %s: the jsonl fixture reads back only utf8 and integer columns, not %s", f.Name, f.Type)
			}
		}
	}
	return bldr.NewRecordBatch(), nil
}

func (*client) Close(context.Context) error { return nil }

func main() {
	p := plugin.NewPlugin("jsonl", "v0.0.0-test", newClient,
		plugin.WithKind(string(plugin.KindDestination)),
		plugin.WithTeam("cq-source-s3-e2e"),
	)
	if err := serve.Plugin(p).Serve(context.Background()); err != nil {
		log.Fatal(err)
	}
}
