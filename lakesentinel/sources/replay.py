"""Load rows exported from a real workspace (``SELECT *`` as Parquet, JSON lines or CSV) into a source table.

Everything is checked before anything is written: a file whose columns or types do not fit gets one
error listing every mismatch (column, what was expected, where it was found), and the table is left
unchanged. A file that fits is appended in a single commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakesentinel.deltars import read_arrow
from lakesentinel.errors import LakeSentinelError, SchemaMismatchError
from lakesentinel.settings import Settings
from lakesentinel.sources.system_tables import SystemTable, system_table
from lakesentinel.sources.types import diff_schemas
from lakesentinel.sources.writer import SourceWriter

FORMATS = {".parquet": "parquet", ".json": "json", ".jsonl": "json", ".ndjson": "json", ".csv": "csv"}
MAX_EXAMPLES = 3
MAX_PROBLEMS = 20


@dataclass
class ReplayResult:
    table: str
    rows: int  # rows appended
    file: str
    format: str
    skipped: int = 0  # rows whose natural key the table already held (a file replayed twice)
    added_columns: list[str] = field(default_factory=list)  # columns the reference schema does not know yet


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = path.suffix.lower() if path.is_file() else next(
        (p.suffix.lower() for p in path.iterdir() if p.suffix.lower() in FORMATS), "")
    if suffix not in FORMATS:
        raise LakeSentinelError(f"{path}: cannot tell the format from the name; pass --format parquet|json|csv")
    return FORMATS[suffix]


def _stringly(dt: T.DataType) -> T.DataType:
    """The same shape with every leaf a string: what any JSON value of that shape parses into."""
    if isinstance(dt, T.StructType):
        return T.StructType([T.StructField(f.name, _stringly(f.dataType)) for f in dt.fields])
    if isinstance(dt, T.ArrayType):
        return T.ArrayType(_stringly(dt.elementType))
    if isinstance(dt, T.MapType):
        return T.MapType(T.StringType(), _stringly(dt.valueType))
    return T.StringType()


# A path to a nested field: field names, with "[]" for an array's elements and "{}" for a map's values.
Path_ = tuple[str, ...]


def _unknown_fields(value, dt: T.DataType, path: Path_, found: set[Path_]) -> None:
    """Add to ``found`` every field of ``value`` (parsed JSON) that the type ``dt`` does not know."""
    if isinstance(dt, T.StructType) and isinstance(value, dict):
        known = {f.name: f.dataType for f in dt.fields}
        for key, item in value.items():
            if key in known:
                _unknown_fields(item, known[key], path + (key,), found)
            else:
                found.add(path + (key,))
    elif isinstance(dt, T.ArrayType) and isinstance(value, list):
        for item in value:
            _unknown_fields(item, dt.elementType, path + ("[]",), found)
    elif isinstance(dt, T.MapType) and isinstance(value, dict):
        for item in value.values():
            _unknown_fields(item, dt.valueType, path + ("{}",), found)


def _with_fields(dt: T.DataType, paths: set[Path_], new: dict[Path_, T.DataType] | None = None) -> T.DataType:
    """``dt`` with the unknown fields at ``paths`` (relative to it) added at the end of their struct: with
    their type from ``new`` when known (Parquet), else as text (JSON and CSV: the value's JSON text)."""
    new = new or {}
    if isinstance(dt, T.StructType):
        fields = [T.StructField(f.name, _with_fields(f.dataType, {p[1:] for p in paths if p[0] == f.name and len(p) > 1},
                                                     {k[1:]: v for k, v in new.items() if k[0] == f.name}),
                                f.nullable) for f in dt.fields]
        names = {f.name for f in dt.fields}
        added = sorted({p[0] for p in paths if len(p) == 1 and p[0] not in names})
        return T.StructType(fields + [T.StructField(n, new.get((n,), T.StringType())) for n in added])
    step = "[]" if isinstance(dt, T.ArrayType) else "{}" if isinstance(dt, T.MapType) else None
    inner = {p[1:] for p in paths if p[0] == step and len(p) > 1}
    inner_new = {k[1:]: v for k, v in new.items() if k[0] == step}
    if isinstance(dt, T.ArrayType):
        return T.ArrayType(_with_fields(dt.elementType, inner, inner_new), dt.containsNull)
    if isinstance(dt, T.MapType):
        return T.MapType(dt.keyType, _with_fields(dt.valueType, inner, inner_new), dt.valueContainsNull)
    return dt


def _dotted(path: Path_) -> str:
    """``("compute", "[]", "node_count")`` -> ``compute[].node_count``."""
    out = path[0]
    for step in path[1:]:
        out += step if step in ("[]", "{}") else f".{step}"
    return out


def _nested_unknowns(table: SystemTable, objects) -> dict[str, set[Path_]]:
    """Per nested column, the paths of fields its values hold that the reference schema does not know."""
    nested = {f.name: f.dataType for f in table.schema.fields
              if isinstance(f.dataType, (T.StructType, T.ArrayType, T.MapType))}
    found: set[Path_] = set()
    for obj in objects:
        for name, dt in nested.items():
            if obj.get(name) is not None:
                _unknown_fields(obj[name], dt, (name,), found)
    return {name: {p for p in found if p[0] == name} for name in nested if any(p[0] == name for p in found)}


def _nulls(col) -> object:
    """How many bare JSON nulls the value holds at any depth (a quoted "null" is text, not counted)."""
    text = F.to_json(col, {"ignoreNullFields": "false"})
    return F.coalesce(F.regexp_count(text, F.lit(r"(?<=[:\[,])null(?=[,\]}])")), F.lit(0))


def _typed(raw, dt: T.DataType):
    if isinstance(dt, (T.StructType, T.MapType, T.ArrayType)):
        # Every leaf read as text, then cast: quoted numbers inside nested columns ("status_code": "200",
        # as some exporters write them) are accepted as they are at the top level.
        return F.from_json(raw, _stringly(dt)).try_cast(dt)
    if isinstance(dt, T.BooleanType):
        return F.when(F.lower(raw).isin("true", "false"), F.lower(raw) == "true")
    return raw.try_cast(dt)


def _convert(raw: DataFrame, schema: T.StructType, unit: str, where: str, keep: list[str] = ()) -> DataFrame:
    """Typed rows from raw strings; raises with every value that does not fit, by column and row."""
    present = [f for f in schema.fields if f.name in raw.columns]
    checks, typed_cols = [], []
    for f in present:
        src = F.col(f"`{f.name}`")
        value = F.when(F.trim(src) != "", src)
        typed = _typed(value, f.dataType)
        typed_cols.append(typed.alias(f.name))
        if isinstance(f.dataType, (T.StructType, T.MapType, T.ArrayType)):
            # A leaf that does not fit its type becomes null in the cast: more nulls than in the text.
            loose = F.from_json(value, _stringly(f.dataType))
            checks.append((f.name, f.dataType.simpleString(),
                           value.isNotNull() & (loose.isNull() | typed.isNull() | (_nulls(typed) > _nulls(loose)))))
        else:
            checks.append((f.name, f.dataType.simpleString(), value.isNotNull() & typed.isNull()))
    flagged = raw.select("_row", *[F.col(f"`{f.name}`") for f in present],
                         *[c.alias(f"_bad{i}") for i, (_, _, c) in enumerate(checks)]).cache()
    problems = []
    counts = flagged.select(*[F.sum(F.col(f"_bad{i}").cast("int")).alias(f"_bad{i}")
                              for i in range(len(checks))]).first()
    for i, (name, expected, _) in enumerate(checks):
        if counts[f"_bad{i}"]:
            top = name.split(".")[0]
            rows = flagged.where(F.col(f"_bad{i}")).orderBy("_row").select("_row", f"`{top}`").limit(MAX_EXAMPLES).collect()
            examples = ", ".join(f"{unit} {r[0]}: {str(r[1])[:50]!r}" for r in rows)
            problems.append(f"column `{name}`: {counts[f'_bad{i}']} value(s) do not fit {expected} ({examples})")
    flagged.unpersist()
    if problems:
        raise SchemaMismatchError(where, problems)
    out = raw.select(*typed_cols, *[F.col(f"`{c}`") for c in keep])
    for f in schema.fields:
        if f.name not in raw.columns:
            out = out.withColumn(f.name, F.lit(None).cast(f.dataType))
    return out


def _numbered(spark: SparkSession, df: DataFrame) -> DataFrame:
    """``df`` with a 1-based ``_row`` column in file order."""
    rdd = df.rdd.zipWithIndex().map(lambda p: (p[1] + 1, *p[0]))
    return spark.createDataFrame(rdd, T.StructType([T.StructField("_row", T.LongType())] + df.schema.fields))


def _json_lines(path: str, on_object=None) -> list[str]:
    """Fail-fast parsing of JSON lines: every line that is not one JSON object, or repeats a key at any
    depth (JSON readers disagree on which value wins), by line number. ``on_object`` sees each good one."""
    problems: list[str] = []

    def no_repeats(pairs):
        keys = [k for k, _ in pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"key(s) {', '.join(map(repr, repeated))} appear more than once")
        return dict(pairs)

    for number, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, object_pairs_hook=no_repeats)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
        else:
            if not isinstance(value, dict):
                problems.append(f"line {number}: not a JSON object")
            elif on_object is not None:
                on_object(value)
        if len(problems) >= MAX_PROBLEMS:
            problems.append("... (stopped after the first problems)")
            break
    return problems


def _lines(path: str):
    target = Path(path)
    files = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file()
                                                    and not p.name.startswith((".", "_")))
    for f in files:
        with f.open(encoding="utf-8") as handle:
            yield from handle


def _check_json(spark: SparkSession, path: str, table: SystemTable) -> tuple[DataFrame, list[str], T.StructType]:
    objects: list[dict] = []
    problems = _json_lines(path, objects.append)
    if problems:
        raise SchemaMismatchError(path, problems)
    lines = _numbered(spark, spark.read.text(path)).where(F.trim("value") != "")
    # Each value as its JSON text: nested objects stay text for _convert, quoted or not.
    parsed = lines.select("_row", F.from_json("value", "map<string,string>").alias("_m")).cache()
    keys = {k for (k,) in parsed.select(F.explode(F.map_keys("_m"))).distinct().collect()}
    extra = sorted(keys - set(table.column_names))
    raw = parsed.select("_row", *[F.col("_m")[c].alias(c) for c in table.column_names + extra])
    return raw, extra, _schema_with(table, _nested_unknowns(table, objects))


def _schema_with(table: SystemTable, unknown: dict[str, set[Path_]],
                 types: dict[Path_, T.DataType] | None = None) -> T.StructType:
    """The reference schema with the nested fields a file adds (Databricks adds them as it adds columns)."""
    types = types or {}
    return T.StructType([T.StructField(f.name, _with_fields(f.dataType, {p[1:] for p in unknown.get(f.name, ())},
                                                            {k[1:]: v for k, v in types.items() if k[0] == f.name}),
                                       f.nullable) if f.name in unknown else f for f in table.schema.fields])


def _check_csv(spark: SparkSession, path: str, table: SystemTable) -> tuple[DataFrame, list[str], T.StructType]:
    # Downloads follow RFC 4180: quotes inside a field are doubled. FAILFAST: a row with more or fewer
    # fields than the header (or an unbalanced quote that shifts them) rejects the file.
    header = spark.read.option("header", True).option("multiLine", True).option("escape", '"').csv(path).columns
    problems = [f"column `{c}` is missing (expected {table.schema[c].dataType.simpleString()})"
                for c in table.column_names if c not in header]
    if len(set(header)) != len(header):
        problems.append(f"the header repeats column(s) {', '.join(sorted({c for c in header if header.count(c) > 1}))}")
    if problems:
        raise SchemaMismatchError(path, problems)
    schema = T.StructType([T.StructField(c, T.StringType()) for c in header])
    raw = (spark.read.schema(schema).option("header", True).option("multiLine", True).option("escape", '"')
           .option("mode", "FAILFAST").csv(path))
    try:
        numbered = _numbered(spark, raw).cache()
        numbered.count()
    except Exception as exc:  # noqa: BLE001  (Spark wraps the malformed-record error in several types)
        detail = next((ln.strip() for ln in str(exc).splitlines() if "alformed" in ln or "record" in ln.lower()),
                      str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise SchemaMismatchError(path, [f"a row does not have the header's {len(header)} fields "
                                         f"(or a quote is unbalanced): {detail[:300]}"]) from None
    nested = [f.name for f in table.schema.fields if isinstance(f.dataType, (T.StructType, T.ArrayType, T.MapType))]
    return numbered, [c for c in header if c not in table.column_names], _schema_with(
        table, _nested_unknowns(table, _json_cells(numbered, nested)))


def _json_cells(df: DataFrame, columns: list[str]):
    """Each row's nested cells parsed (a cell that is not JSON is left to the type checks to report)."""
    for row in df.select(*[F.col(f"`{c}`") for c in columns]).toLocalIterator():
        obj = {}
        for name, text in zip(columns, row):
            try:
                obj[name] = json.loads(text) if text else None
            except ValueError:
                obj[name] = None
        yield obj


def _check_parquet(spark: SparkSession, path: str, table: SystemTable) -> tuple[DataFrame, list[str], T.StructType]:
    df = spark.read.parquet(path)
    known = T.StructType([f for f in df.schema.fields if f.name in table.column_names])
    problems = [p for p in diff_schemas(table.schema, known) if "not in the table" not in p]
    if problems:
        raise SchemaMismatchError(path, problems)
    types: dict[Path_, T.DataType] = {}
    for f in known.fields:
        _unknown_types(f.dataType, table.schema[f.name].dataType, (f.name,), types)
    unknown = {name: {p for p in types if p[0] == name} for name in {p[0] for p in types}}
    return _numbered(spark, df), [c for c in df.columns if c not in table.column_names], _schema_with(
        table, unknown, types)


def _unknown_types(actual: T.DataType, expected: T.DataType, path: Path_, found: dict[Path_, T.DataType]) -> None:
    """The fields of the file's type ``actual`` that ``expected`` lacks, with their types."""
    if isinstance(actual, T.StructType) and isinstance(expected, T.StructType):
        for f in actual.fields:
            if f.name in expected.names:
                _unknown_types(f.dataType, expected[f.name].dataType, path + (f.name,), found)
            else:
                found[path + (f.name,)] = f.dataType
    elif isinstance(actual, T.ArrayType) and isinstance(expected, T.ArrayType):
        _unknown_types(actual.elementType, expected.elementType, path + ("[]",), found)
    elif isinstance(actual, T.MapType) and isinstance(expected, T.MapType):
        _unknown_types(actual.valueType, expected.valueType, path + ("{}",), found)


# Event times outside these years are a wrong unit or a parse gone astray (12345 read as a year).
EARLIEST = datetime(2015, 1, 1)
LATEST_AHEAD = timedelta(days=2)


def _check_rows(typed: DataFrame, table: SystemTable, unit: str) -> list[str]:
    """Required keys present, timestamps in a sane range, by column and the first rows at fault."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    checks = [(f"required column `{k}` is empty", F.col(f"`{k}`").isNull()) for k in table.natural_key]
    for f in table.schema.fields:
        if isinstance(f.dataType, (T.TimestampType, T.TimestampNTZType)):
            c = F.col(f"`{f.name}`")
            checks.append((f"column `{f.name}` is outside {EARLIEST:%Y-%m-%d} .. {now + LATEST_AHEAD:%Y-%m-%d}",
                           (c < F.lit(EARLIEST)) | (c > F.lit(now + LATEST_AHEAD))))
    flagged = typed.select("_row", *[cond.alias(f"_bad{i}") for i, (_, cond) in enumerate(checks)])
    counts = flagged.select(*[F.sum(F.col(f"_bad{i}").cast("int")).alias(f"_bad{i}")
                              for i in range(len(checks))]).first()
    problems = []
    for i, (what, _) in enumerate(checks):
        if counts[f"_bad{i}"]:
            rows = [r[0] for r in flagged.where(F.col(f"_bad{i}")).orderBy("_row").select("_row")
                    .limit(MAX_EXAMPLES).collect()]
            problems.append(f"{what} in {counts[f'_bad{i}']} {unit}(s) ({unit} {', '.join(map(str, rows))})")
    return problems


def _new_rows(cfg: Settings, table: SystemTable, data: pa.Table) -> tuple[pa.Table, int]:
    """``data`` without the rows whose natural key the table (or an earlier row of the file) already holds:
    replaying a file twice adds nothing."""
    keys = list(table.natural_key)
    path = SourceWriter(cfg).path(table.name)
    seen: set[tuple] = set()
    if (Path(path) / "_delta_log").is_dir():
        existing = read_arrow(path, columns=keys)
        seen = set(zip(*[existing.column(k).to_pylist() for k in keys])) if existing.num_rows else set()
    keep = []
    for i, key in enumerate(zip(*[data.column(k).to_pylist() for k in keys])):
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return data.take(pa.array(keep, type=pa.int64())), data.num_rows - len(keep)


def replay(spark: SparkSession, cfg: Settings, table_name: str, file: str, fmt: str | None = None) -> ReplayResult:
    """Validate ``file`` against ``table_name``'s reference schema, then append its new rows in one commit.

    Columns the table does not know yet (Databricks adds columns to system tables at any time) are kept:
    they are added to the local source table as they come (text from JSON and CSV), as a new Databricks
    column would appear, and reported in :attr:`ReplayResult.added_columns`. Fields the reference schema
    does not know inside a struct, an array's structs or a map's struct values are kept the same way
    (added at the end of their struct; text from JSON and CSV, the file's type from Parquet) and reported
    as ``column.field`` or ``column[].field``.
    """
    table = system_table(table_name)
    path = Path(file)
    if not path.exists():
        raise LakeSentinelError(f"{file}: no such file")
    fmt = detect_format(path, fmt)
    unit = "line" if fmt == "json" else "row"
    check = {"parquet": _check_parquet, "json": _check_json, "csv": _check_csv}[fmt]
    raw, extra, schema = check(spark, str(path), table)
    if fmt == "parquet":
        typed = raw
    else:
        typed = _convert(raw, schema, unit, file, keep=["_row", *extra])
    problems = _check_rows(typed, table, unit)
    if problems:
        raise SchemaMismatchError(file, problems)
    data = typed.select(*[f"`{c}`" for c in table.column_names + extra]).toArrow()
    if data.num_rows == 0:
        raise LakeSentinelError(f"{file}: holds no rows")
    from lakesentinel.sources.writer import arrow_schema

    known = data.select(table.column_names).cast(arrow_schema(schema))
    for name in extra:
        known = known.append_column(name, data.column(name))
    added = extra + _added_fields(table.schema, schema)
    new, skipped = _new_rows(cfg, table, known)
    if new.num_rows:
        SourceWriter(cfg).append(table.name, new, schema_mode="merge" if added else None)
    return ReplayResult(table.name, new.num_rows, str(path), fmt, skipped=skipped, added_columns=added)


def _added_fields(reference: T.StructType, widened: T.StructType) -> list[str]:
    """The nested fields ``widened`` has beyond ``reference``, as ``column.field`` / ``column[].field``."""
    found: dict[Path_, T.DataType] = {}
    for f in widened.fields:
        _unknown_types(f.dataType, reference[f.name].dataType, (f.name,), found)
    return sorted(_dotted(p) for p in found)
