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


def _bad_values(raw: DataFrame, typed: DataFrame, table: SystemTable, where: str, unit: str) -> list[str]:
    """Columns whose raw value is present but does not convert to the reference type."""
    problems = []
    joined = raw.join(typed, "_row")
    for f in table.schema.fields:
        if f"_raw_{f.name}" not in raw.columns:
            continue
        bad = joined.where(F.col(f"_raw_{f.name}").isNotNull() & (F.trim(F.col(f"_raw_{f.name}")) != "")
                           & F.col(f"`{f.name}`").isNull())
        rows = bad.select("_row", f"_raw_{f.name}").orderBy("_row").limit(MAX_EXAMPLES).collect()
        if rows:
            count = bad.count()
            examples = ", ".join(f"{unit} {r['_row']}: {str(r[1])[:40]!r}" for r in rows)
            problems.append(f"column `{f.name}`: {count} value(s) do not fit {f.dataType.simpleString()} "
                            f"({examples})")
    return problems


def _with_row_numbers(spark: SparkSession, text: DataFrame, first: int) -> DataFrame:
    rdd = text.rdd.zipWithIndex().map(lambda p: (p[1] + first, p[0][0]))
    return spark.createDataFrame(rdd, "_row long, value string")


def _check_json(spark: SparkSession, path: str, table: SystemTable) -> DataFrame:
    lines = _with_row_numbers(spark, spark.read.text(path), 1).where(F.trim("value") != "")
    raw = lines.select("_row", F.from_json("value", "map<string,string>").alias("_m"))
    unparsable = raw.where(F.col("_m").isNull()).select("_row").limit(MAX_EXAMPLES).collect()
    problems = [f"line {r['_row']}: not a JSON object" for r in unparsable]
    keys = {k for (k,) in raw.select(F.explode(F.map_keys("_m"))).distinct().collect()}
    problems += [f"column `{k}` is not in the table" for k in sorted(keys - set(table.column_names))]
    typed = lines.select("_row", F.from_json("value", table.schema).alias("_v")).select("_row", "_v.*")
    raw_cols = raw.select("_row", *[F.col("_m")[c].alias(f"_raw_{c}") for c in table.column_names])
    problems += _bad_values(raw_cols, typed, table, path, "line")
    if problems:
        raise SchemaMismatchError(path, problems)
    return typed.drop("_row")


def _check_csv(spark: SparkSession, path: str, table: SystemTable) -> DataFrame:
    raw = spark.read.option("header", True).option("multiLine", True).option("escape", '"').csv(path)
    header = raw.columns
    problems = [f"column `{c}` is missing (expected {table.schema[c].dataType.simpleString()})"
                for c in table.column_names if c not in header]
    problems += [f"column `{c}` is not in the table" for c in header if c not in table.column_names]
    if problems:
        raise SchemaMismatchError(path, problems)
    numbered = spark.createDataFrame(raw.rdd.zipWithIndex().map(lambda p: (p[1] + 1, *p[0])),
                                     T.StructType([T.StructField("_row", T.LongType())] + raw.schema.fields))
    typed_cols = []
    for f in table.schema.fields:
        c = F.col(f"`{f.name}`")
        if isinstance(f.dataType, (T.StructType, T.MapType, T.ArrayType)):
            typed_cols.append(F.from_json(c, f.dataType).alias(f.name))
        elif isinstance(f.dataType, T.BooleanType):
            typed_cols.append(F.when(F.lower(c).isin("true", "false"), F.lower(c) == "true").alias(f.name))
        else:
            typed_cols.append(F.expr(f"try_cast(`{f.name}` AS {f.dataType.simpleString()})").alias(f.name))
    typed = numbered.select("_row", *typed_cols)
    raw_cols = numbered.select("_row", *[F.col(f"`{c}`").alias(f"_raw_{c}") for c in table.column_names])
    problems = _bad_values(raw_cols, typed, table, path, "row")
    if problems:
        raise SchemaMismatchError(path, problems)
    return typed.drop("_row")


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
