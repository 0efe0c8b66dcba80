"""Load rows exported from a real workspace (``SELECT *`` as Parquet, JSON lines or CSV) into a source table.

Everything is checked before anything is written: a file whose columns or types do not fit gets one
error listing every mismatch (column, what was expected, where it was found), and the table is left
unchanged. A file that fits is appended in a single commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakesentinel.errors import LakeSentinelError, SchemaMismatchError
from lakesentinel.settings import Settings
from lakesentinel.sources.system_tables import SystemTable, system_table
from lakesentinel.sources.types import diff_schemas
from lakesentinel.sources.writer import SourceWriter

FORMATS = {".parquet": "parquet", ".json": "json", ".jsonl": "json", ".ndjson": "json", ".csv": "csv"}
MAX_EXAMPLES = 3


@dataclass
class ReplayResult:
    table: str
    rows: int
    file: str
    format: str


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


def _leaf_counts(col, dt: T.DataType, path: str) -> list[tuple[str, object, T.DataType]]:
    """(path, number of non-null leaves under ``col``, leaf type) for every leaf path of ``dt``."""
    if isinstance(dt, T.StructType):
        out = []
        for f in dt.fields:
            out += _leaf_counts(col.getField(f.name), f.dataType, f"{path}.{f.name}")
        return out
    if isinstance(dt, (T.ArrayType, T.MapType)):
        element = dt.elementType if isinstance(dt, T.ArrayType) else dt.valueType
        items = col if isinstance(dt, T.ArrayType) else F.map_values(col)
        leaves = [(leaf, t) for leaf, _, t in _leaf_counts(F.lit(None), element, path)]
        out = []
        for i, (leaf, leaf_type) in enumerate(leaves):
            # transform() passes an index to two-argument lambdas: bind i outside the lambda.
            count = (lambda k: lambda x: _leaf_counts(x, element, path)[k][1])(i)
            total = F.aggregate(F.transform(items, count), F.lit(0), lambda acc, v: acc + v)
            out.append((leaf, F.coalesce(total, F.lit(0)), leaf_type))
        return out
    return [(path, F.when(col.isNotNull(), 1).otherwise(0), dt)]


def _typed(raw, dt: T.DataType):
    if isinstance(dt, (T.StructType, T.MapType, T.ArrayType)):
        return F.from_json(raw, dt)
    if isinstance(dt, T.BooleanType):
        return F.when(F.lower(raw).isin("true", "false"), F.lower(raw) == "true")
    return raw.try_cast(dt)


def _convert(raw: DataFrame, table: SystemTable, unit: str, where: str) -> DataFrame:
    """Typed rows from raw strings; raises with every value that does not fit, by column and row."""
    present = [f for f in table.schema.fields if f.name in raw.columns]
    checks, typed_cols = [], []
    for f in present:
        src = F.col(f"`{f.name}`")
        value = F.when(F.trim(src) != "", src)
        typed = _typed(value, f.dataType)
        typed_cols.append(typed.alias(f.name))
        if isinstance(f.dataType, (T.StructType, T.MapType, T.ArrayType)):
            loose = F.from_json(value, _stringly(f.dataType))
            checks.append((f.name, f.dataType.simpleString(), value.isNotNull() & (loose.isNull() | typed.isNull())))
            strict = _leaf_counts(typed, f.dataType, f.name)
            for (leaf, n, leaf_type), (_, m, _) in zip(_leaf_counts(loose, f.dataType, f.name), strict):
                checks.append((leaf, leaf_type.simpleString(), n > m))
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
    out = raw.select(*typed_cols)
    for f in table.schema.fields:
        if f.name not in raw.columns:
            out = out.withColumn(f.name, F.lit(None).cast(f.dataType))
    return out


def _numbered(spark: SparkSession, df: DataFrame) -> DataFrame:
    """``df`` with a 1-based ``_row`` column in file order."""
    rdd = df.rdd.zipWithIndex().map(lambda p: (p[1] + 1, *p[0]))
    return spark.createDataFrame(rdd, T.StructType([T.StructField("_row", T.LongType())] + df.schema.fields))


def _check_json(spark: SparkSession, path: str, table: SystemTable) -> DataFrame:
    lines = _numbered(spark, spark.read.text(path)).where(F.trim("value") != "")
    parsed = lines.select("_row", F.from_json("value", "map<string,string>").alias("_m")).cache()
    problems = [f"line {r['_row']}: not a JSON object"
                for r in parsed.where(F.col("_m").isNull()).select("_row").limit(MAX_EXAMPLES).collect()]
    keys = {k for (k,) in parsed.select(F.explode(F.map_keys("_m"))).distinct().collect()}
    problems += [f"column `{k}` is not in the table" for k in sorted(keys - set(table.column_names))]
    raw = parsed.select("_row", *[F.col("_m")[c].alias(c) for c in table.column_names])
    try:
        typed = _convert(raw, table, "line", path)
    except SchemaMismatchError as exc:
        problems += exc.mismatches
    if problems:
        raise SchemaMismatchError(path, problems)
    return typed


def _check_csv(spark: SparkSession, path: str, table: SystemTable) -> DataFrame:
    # Downloads follow RFC 4180: quotes inside a field are doubled.
    raw = spark.read.option("header", True).option("multiLine", True).option("escape", '"').csv(path)
    header = raw.columns
    problems = [f"column `{c}` is missing (expected {table.schema[c].dataType.simpleString()})"
                for c in table.column_names if c not in header]
    problems += [f"column `{c}` is not in the table" for c in header if c not in table.column_names]
    if problems:
        raise SchemaMismatchError(path, problems)
    return _convert(_numbered(spark, raw), table, "row", path)


def _check_parquet(spark: SparkSession, path: str, table: SystemTable) -> DataFrame:
    df = spark.read.parquet(path)
    problems = diff_schemas(table.schema, df.schema)
    if problems:
        raise SchemaMismatchError(path, problems)
    return df


def replay(spark: SparkSession, cfg: Settings, table_name: str, file: str, fmt: str | None = None) -> ReplayResult:
    """Validate ``file`` against ``table_name``'s reference schema, then append it in one commit."""
    table = system_table(table_name)
    path = Path(file)
    if not path.exists():
        raise LakeSentinelError(f"{file}: no such file")
    fmt = detect_format(path, fmt)
    check = {"parquet": _check_parquet, "json": _check_json, "csv": _check_csv}[fmt]
    df = check(spark, str(path), table).select(*[f"`{c}`" for c in table.column_names])
    data = df.toArrow()
    if data.num_rows == 0:
        raise LakeSentinelError(f"{file}: holds no rows")
    from lakesentinel.sources.writer import arrow_schema

    SourceWriter(cfg).append(table.name, data.cast(arrow_schema(table.schema)))
    return ReplayResult(table.name, data.num_rows, str(path), fmt)
