"""Data and the pyarrow reference for scripts/bench-plugin.sh (benchmark only; tests never need Python).

  gen.py throughput OUT.parquet ROWS GROUP_ROWS   ROWS rows x 6 columns, snappy, GROUP_ROWS-row groups
  gen.py memory OUT.parquet MB                     one row group of about MB uncompressed megabytes
  gen.py pyarrow FILE RECORD REPEAT [DECODE]       the reference: pyarrow decodes DECODE-row batches
                                                   (default RECORD; 65536 is what the plugin decodes at
                                                   once) and sends each RECORD-row slice as one Arrow IPC
                                                   stream (what the plugin sends per record); REPEAT runs,
                                                   one line each
"""

import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

# Uncompressed bytes per row of table(): 8 + 4 + 8 + (4 + ~10) + 8 + 1/8.
BYTES_PER_ROW = 42


def table(rows, seed=1):
    rng = np.random.default_rng(seed)
    names = np.char.add("user-", rng.integers(0, 100_000, rows).astype(str))
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "user_id": pa.array(rng.integers(0, 1_000_000, rows, dtype=np.int32)),
            "amount": pa.array(rng.random(rows) * 1000),
            "name": pa.array(names),
            "ts": pa.array(1_700_000_000_000_000 + np.arange(rows, dtype=np.int64) * 1000, type=pa.timestamp("us")),
            "flag": pa.array(rng.random(rows) < 0.5),
        }
    )


def write(path, tbl, group_rows):
    pq.write_table(tbl, path, compression="snappy", row_group_size=group_rows)
    md = pq.ParquetFile(path).metadata
    sizes = [md.row_group(i).total_byte_size for i in range(md.num_row_groups)]
    print(
        f"{path}: {md.num_rows} rows, {md.num_row_groups} row groups, largest {max(sizes) / 1e6:.0f} MB uncompressed",
        file=sys.stderr,
    )


def reference(path, record, repeat, decode):
    """One line per run: the same work the plugin does, done the fastest way pyarrow offers."""
    for _ in range(repeat):
        pf = pq.ParquetFile(path)
        rows = nbytes = 0
        start, cpu0 = time.perf_counter(), time.process_time()
        for b in pf.iter_batches(batch_size=decode):
            for off in range(0, b.num_rows, record):
                part = b.slice(off, record)
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, part.schema) as w:
                    w.write_batch(part)
                nbytes += sink.getvalue().size
                rows += part.num_rows
        secs, cpu = time.perf_counter() - start, time.process_time() - cpu0
        print(f"pyarrow\t{rows}\t{nbytes}\t{secs:.3f}\t{rows / secs:.0f}\t{nbytes / secs / 1e6:.1f}\t-\t{cpu:.3f}\t{rows / cpu:.0f}\t-\t-")


def main():
    cmd = sys.argv[1]
    if cmd == "throughput":
        rows, group = int(sys.argv[3]), int(sys.argv[4])
        write(sys.argv[2], table(rows), group)
    elif cmd == "memory":
        rows = int(float(sys.argv[3]) * 1e6 / BYTES_PER_ROW)
        write(sys.argv[2], table(rows, seed=2), rows)
    elif cmd == "pyarrow":
        record = int(sys.argv[3])
        reference(sys.argv[2], record, int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else record)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
