// Command destination is a TEST FIXTURE, not a product: a minimal CloudQuery destination plugin
// ("jsonl", plugin-sdk v4) that appends every inserted row, in canonical form (internal/canon),
// to <directory>/<table>.jsonl and writes each migrated table's columns to
// <directory>/<table>.schema.json. It exists because CloudQuery's own `file` destination cannot
// be fetched from the module proxy here (see docs/rehearsal.md). It supports only
// `write_mode: append`: deletes (stale or by record) are refused, never silently dropped.
//
//	destination serve --address 127.0.0.1:<port>   (or run by the CLI with registry: local)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"

	"github.com/apache/arrow-go/v18/arrow"
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

func (*client) Read(context.Context, *schema.Table, chan<- arrow.RecordBatch) error {
	return plugin.ErrNotImplemented
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
