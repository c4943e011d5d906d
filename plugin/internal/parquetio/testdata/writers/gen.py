"""Writes the outside-writer corpus of parquetio's TestWritersCorpus.

Each <name>.parquet is written by pyarrow or DuckDB (not by arrow-go, the
reader under test); <name>.json holds what an independent reader gives for it,
in the canonical form of types_test.go: pyarrow's reading for every column,
DuckDB's JSON rendering (v::JSON) for VARIANT columns, which pyarrow returns as
raw struct<metadata, value, typed_value>.

Regenerate (pyarrow and duckdb in a throwaway virtualenv; versions printed in
each .json):  python3 gen.py   (from this folder)
"""

import datetime as dt
import decimal
import json
import os
import struct
import uuid

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
decimal.getcontext().prec = 100  # decimal256 has 76 digits; the default 28 would round
UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}


def f64(x):
    return "f64:" + struct.pack(">d", float(x)).hex()


def canon(arr):
    """The canonical values of a pyarrow array (see types_test.go canonical)."""
    t = arr.type
    if isinstance(arr, pa.ChunkedArray):
        out = []
        for c in arr.chunks:
            out.extend(canon(c))
        return out
    if pa.types.is_dictionary(t):
        return canon(arr.dictionary_decode())
    if isinstance(t, pa.ExtensionType) or isinstance(arr, pa.ExtensionArray):
        name = getattr(t, "extension_name", "")
        storage = canon(arr.storage)
        if name == "arrow.uuid":
            return storage
        if name == "arrow.json":
            return [None if v is None else json.loads(v) for v in storage]
        return storage
    valid = arr.is_valid().to_pylist()
    if pa.types.is_timestamp(t):
        raw = arr.cast(pa.int64()).to_pylist()
        mult = UNIT[t.unit]
        return [None if v is None else (v * mult if mult else v // 1000) for v in raw]
    if pa.types.is_time(t):
        raw = arr.cast(pa.int64() if t.bit_width == 64 else pa.int32()).to_pylist()
        mult = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[t.unit]
        return [None if v is None else v * mult for v in raw]
    if pa.types.is_date32(t):
        return arr.cast(pa.int32()).to_pylist()
    if pa.types.is_date64(t):
        return [None if v is None else v // 86_400_000 for v in arr.cast(pa.int64()).to_pylist()]
    if pa.types.is_floating(t):
        return [None if v is None else f64(v) for v in arr.to_pylist()]
    if pa.types.is_decimal(t):
        out = []
        for v in arr.to_pylist():
            out.append(None if v is None else "%de-%d" % (int(v.scaleb(t.scale)), t.scale))
        return out
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t):
        return [None if v is None else v.hex() for v in arr.to_pylist()]
    if pa.types.is_map(t):
        keys, items = canon(arr.keys), canon(arr.items)
        offs = arr.offsets.to_pylist()
        return [None if not valid[i] else [[keys[j], items[j]] for j in range(offs[i], offs[i + 1])] for i in range(len(arr))]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        vals = canon(arr.values)
        offs = arr.offsets.to_pylist()
        return [None if not valid[i] else vals[offs[i]:offs[i + 1]] for i in range(len(arr))]
    if pa.types.is_fixed_size_list(t):
        vals, n = canon(arr.values), t.list_size
        off = arr.offset
        return [None if not valid[i] else vals[(off + i) * n:(off + i + 1) * n] for i in range(len(arr))]
    if pa.types.is_struct(t):
        fields = {t.field(k).name: canon(arr.field(k)) for k in range(t.num_fields)}
        return [None if not valid[i] else {k: v[i] for k, v in fields.items()} for i in range(len(arr))]
    return arr.to_pylist()


def expect(name, path, variant_columns=()):
    table = pq.read_table(path)
    cols = {}
    for f in table.schema:
        if f.name in variant_columns:
            rows = duckdb.sql(f"SELECT \"{f.name}\"::JSON FROM '{path}'").fetchall()
            cols[f.name] = [None if r[0] is None else json.loads(r[0]) for r in rows]
        else:
            cols[f.name] = canon(table.column(f.name))
    rows = [[cols[f.name][i] for f in table.schema] for i in range(table.num_rows)]
    doc = {"writer": name, "pyarrow": pa.__version__, "duckdb": duckdb.__version__,
           "columns": table.schema.names, "rows": rows}
    with open(path[:-len(".parquet")] + ".json", "w") as fh:
        json.dump(doc, fh, indent=None, separators=(",", ":"))
        fh.write("\n")


def out(name):
    return os.path.join(HERE, name + ".parquet")


def pyarrow_files():
    ts = [dt.datetime(2024, 3, 10, 6, 59, 59, 123456), None, dt.datetime(1969, 12, 31, 23, 59, 59, 999999)]
    t = pa.table({
        "b": pa.array([True, None, False]),
        "i8": pa.array([-128, None, 127], pa.int8()),
        "u16": pa.array([0, 65535, None], pa.uint16()),
        "i64": pa.array([-(2**63), 2**63 - 1, None], pa.int64()),
        "u64": pa.array([2**64 - 1, 0, None], pa.uint64()),
        "f16": pa.array([1.5, None, -2.25], pa.float16()),
        "f32": pa.array([0.1, None, 3.5], pa.float32()),
        "f64": pa.array([1e300, -0.0, None]),
        "d128": pa.array([decimal.Decimal("-12345.678"), None, decimal.Decimal("0.001")], pa.decimal128(18, 3)),
        "d256": pa.array([decimal.Decimal("1" * 45), None, decimal.Decimal("-3")], pa.decimal256(60, 0)),
        "d32": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("-9.99")], pa.decimal32(5, 2)),
        "date": pa.array([dt.date(1, 1, 1), None, dt.date(9999, 12, 31)], pa.date32()),
        "t_ms": pa.array([dt.time(23, 59, 59, 999000), None, dt.time(0)], pa.time32("ms")),
        "t_ns": pa.array([1, None, 86_399_999_999_999], pa.time64("ns")),
        "ts_s": pa.array(ts, pa.timestamp("s")),
        "ts_ms_tz": pa.array(ts, pa.timestamp("ms", tz="America/New_York")),
        "ts_ns": pa.array([-1, None, 1_700_000_000_123_456_789], pa.timestamp("ns", tz="UTC")),
        "s": pa.array(["héllo", None, ""]),
        "ls": pa.array(["a" * 30, None, "日本"], pa.large_string()),
        "sv": pa.array(["view", None, "x" * 20], pa.string_view()),
        "bin": pa.array([b"\x00\xff", None, b""], pa.binary()),
        "lbin": pa.array([b"abc", b"", None], pa.large_binary()),
        "fsb": pa.array([b"abcd", None, b"\x00\x00\x00\x01"], pa.binary(4)),
        "uuid": pa.array([uuid.UUID(int=1).bytes, None, uuid.UUID("0193a3f4-7a3b-7c2e-9f00-123456789abc").bytes], pa.uuid()),
        "js": pa.array(['{"a": [1, 2]}', None, '"x"'], pa.json_(pa.string())),
        "dict": pa.array(["red", "red", None]).dictionary_encode(),
    })
    pq.write_table(t, out("pyarrow_types"), row_group_size=2)
    expect("pyarrow", out("pyarrow_types"))

    deep = pa.struct([("a", pa.struct([("b", pa.struct([("c", pa.list_(pa.int32()))]))]))])
    n = pa.table({
        "l": pa.array([[1, None], None, [], [4]], pa.list_(pa.int64())),
        "ll": pa.array([["x"], [], None, ["y", None]], pa.large_list(pa.large_string())),
        "fsl": pa.array([[1, 2], [3, 4], [5, None], [0, 0]], pa.list_(pa.int16(), 2)),
        "m": pa.array([[("k", 1.5)], None, [], [("a", None), ("b", 2.0)]], pa.map_(pa.string(), pa.float64())),
        "deep": pa.array([{"a": {"b": {"c": [1]}}}, {"a": None}, None, {"a": {"b": {"c": None}}}], deep),
        "lsl": pa.array([[{"k": [{"x": 1}]}], [None], None, [{"k": []}]],
                        pa.list_(pa.struct([("k", pa.list_(pa.map_(pa.string(), pa.int8())))]))),
        "allnull": pa.array([None] * 4, pa.string()),
    })
    pq.write_table(n, out("pyarrow_nested_v2_snappy"), row_group_size=3, data_page_version="2.0",
                   compression="snappy", data_page_size=64)
    expect("pyarrow", out("pyarrow_nested_v2_snappy"))

    e = pa.table({
        "f": pa.array([float(i) / 3 for i in range(40)], pa.float64()),
        "i": pa.array(list(range(-20, 20)), pa.int32()),
        "s": pa.array(["prefix-%03d" % i for i in range(40)]),
        "b": pa.array([b"%d" % i for i in range(40)]),
    })
    pq.write_table(e, out("pyarrow_encodings"), use_dictionary=False, row_group_size=15, data_page_size=40,
                   column_encoding={"f": "BYTE_STREAM_SPLIT", "i": "DELTA_BINARY_PACKED",
                                    "s": "DELTA_BYTE_ARRAY", "b": "DELTA_LENGTH_BYTE_ARRAY"},
                   compression={"f": "zstd", "i": "gzip", "s": "brotli", "b": "lz4"})
    expect("pyarrow", out("pyarrow_encodings"))

    i96 = pa.table({"ts": pa.array([dt.datetime(1700, 1, 1), None, dt.datetime(2200, 6, 1, 12, 0, 0, 1)], pa.timestamp("us"))})
    pq.write_table(i96, out("pyarrow_int96"), use_deprecated_int96_timestamps=True)
    expect("pyarrow", out("pyarrow_int96"))

    empty = pa.table({"id": pa.array([], pa.int64()), "m": pa.array([], pa.map_(pa.string(), pa.string()))})
    pq.write_table(empty, out("pyarrow_empty"))
    expect("pyarrow", out("pyarrow_empty"))


def duckdb_files():
    con = duckdb.connect()
    # A NULL fixed-size ARRAY has no child values in Parquet; pyarrow refuses the
    # file ("list offsets larger than values array"), so the second row has one.
    con.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    con.execute(f"""COPY (SELECT * FROM (VALUES
        (1, 170141183460469231731687303715884105727::HUGEINT, 18446744073709551615::UBIGINT, 12.345::DECIMAL(18,3),
         -1.5::DOUBLE, 'x', '\\xAA\\x00'::BLOB, DATE '2024-02-29', TIME '23:59:59.123456',
         TIMESTAMP '1900-01-01 00:00:00.5', TIMESTAMPTZ '2024-01-01 12:00:00+00', '0193a3f4-7a3b-7c2e-9f00-123456789abc'::UUID,
         '{{"k": [true, null]}}'::JSON, 'happy'::mood, [1, NULL, 3], {{'a': 1, 'b': [{{'c': 'd'}}]}}, MAP {{'k': 1.5}},
         [1, 2, 3]::INTEGER[3]),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, [4, NULL, 6]::INTEGER[3])
        ) AS t(id, h, ub, dec, dbl, s, bl, d, tm, ts, tstz, u, js, e, l, st, m, arr))
        TO '{out("duckdb_types")}' (FORMAT parquet, ROW_GROUP_SIZE 1)""")
    expect("duckdb", out("duckdb_types"))

    con.execute(f"""COPY (SELECT id, v FROM (VALUES
        (1, '{{"a": [1, 2], "b": "x"}}'::JSON::VARIANT), (2, 42::VARIANT), (3, NULL), (4, '[]'::JSON::VARIANT),
        (5, '{{}}'::JSON::VARIANT), (6, 'text'::VARIANT), (7, '{{"a": {{"deep": [null, true]}}}}'::JSON::VARIANT),
        (8, DATE '2024-01-01'::VARIANT), (9, 12.5::DECIMAL(9,2)::VARIANT)) AS t(id, v))
        TO '{out("duckdb_variant")}' (FORMAT parquet)""")
    expect("duckdb", out("duckdb_variant"), variant_columns=("v",))

    con.execute(f"""COPY (SELECT id, v FROM (VALUES
        (1, '{{"a": [1, 2], "b": "x"}}'::JSON::VARIANT), (2, '{{"a": [3], "b": "y", "extra": 7}}'::JSON::VARIANT),
        (3, '{{"a": "not a list", "b": null}}'::JSON::VARIANT), (4, '5'::JSON::VARIANT)) AS t(id, v))
        TO '{out("duckdb_variant_shredded")}' (FORMAT parquet, SHREDDING {{v: 'STRUCT(a INTEGER[], b VARCHAR)'}})""")
    expect("duckdb", out("duckdb_variant_shredded"), variant_columns=("v",))


if __name__ == "__main__":
    pyarrow_files()
    duckdb_files()
