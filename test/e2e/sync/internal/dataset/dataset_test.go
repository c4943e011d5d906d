package dataset

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/infobloxopen/cq-source-s3/test/e2e/sync/internal/canon"
)

// The objects put into the bucket hold exactly the rows the comparer expects: reading each
// Parquet body back yields Record's rows, and the corrupt body is not readable Parquet.
func TestBodiesRoundTrip(t *testing.T) {
	for _, f := range append(Files(), Added()...) {
		if f.Cols == nil {
			continue
		}
		body, err := f.Body()
		if err != nil {
			t.Fatal(err)
		}
		rd, err := file.NewParquetReader(bytes.NewReader(body))
		if f.Kind == Corrupt {
			if err == nil {
				t.Errorf("%s: corrupt body opened as Parquet", f.Key)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", f.Key, err)
		}
		fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tr := arrowTableRows(t, tbl)
		rec, err := f.Record()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := canon.Rows(rec)
		if !slices.Equal(tr, want) {
			t.Errorf("%s: read back %v, want %v", f.Key, tr, want)
		}
		if got, w := canon.Fields(tbl.Schema()), canon.Fields(rec.Schema()); !slices.Equal(got, w) {
			t.Errorf("%s: schema read back %v, want %v", f.Key, got, w)
		}
		rec.Release()
		tbl.Release()
		_ = rd.Close()
	}
}

func arrowTableRows(t *testing.T, tbl arrow.Table) []string {
	t.Helper()
	var rows []string
	tr := array.NewTableReader(tbl, 0)
	defer tr.Release()
	for tr.Next() {
		r, err := canon.Rows(tr.RecordBatch())
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	return rows
}

func TestExpectedTables(t *testing.T) {
	want, err := Expected()
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 || want["users"] == nil || want["sales_eu"] == nil || want["events"] == nil {
		t.Fatalf("tables = %v", want)
	}
	if got := CorruptKeys(); len(got) != 1 {
		t.Fatalf("corrupt keys = %v", got)
	}
}
