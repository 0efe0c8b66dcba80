"""Gold DDL: one versioned SQL file per table (``sql/``) and per view (``sql/views/``), applied idempotently.

Files name schemas as ``{gold}``, ``{silver}``, ``{bronze}`` and ``{ops}``. A table's file is the
CREATE TABLE statement Databricks runs; its ``CLUSTER BY`` is used as written under the ``liquid``
layout and becomes ``PARTITIONED BY`` its first column under ``partition`` (config/gold.yaml). The
``lakesentinel.schema_version`` table property records which version of the file made the table: a
table from an older version gains the columns added since, and a change that cannot be made in place
(a retyped or removed column) stops with the file and the columns named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from pyspark.sql import SparkSession
from pyspark.sql import types as T
from sqlglot import exp

from lakesentinel.errors import LakeSentinelError
from lakesentinel.gold.config import GoldSettings
from lakesentinel.lakehouse import LAYERS, Lakehouse, quote
from lakesentinel.session_kind import session_key
from lakesentinel.settings import Settings
from lakesentinel.sources.types import diff_schemas, parse_type

SQL_DIR = Path(__file__).resolve().parent / "sql"
VIEW_DIR = SQL_DIR / "views"
VERSION_PROPERTY = "lakesentinel.schema_version"
_PLACEHOLDER = re.compile(r"\{([a-z]+)\}")


class GoldDdlError(LakeSentinelError):
    """A gold SQL file that does not parse, or a table that its file can no longer describe."""


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: str  # Spark SQL type, e.g. DECIMAL(38, 18)
    ddl: str  # the whole definition: name, type, NOT NULL, COMMENT


@dataclass(frozen=True)
class TableDdl:
    table: str
    name: str
    path: Path
    version: int
    columns: tuple[ColumnDef, ...]
    cluster_by: tuple[str, ...]
    comment: str | None
    properties: dict[str, str]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def schema(self) -> T.StructType:
        return T.StructType([T.StructField(c.name, parse_type(c.type.lower()), True) for c in self.columns])

    def layout(self, settings: GoldSettings) -> dict[str, list[str]]:
        """``partition_by`` or ``cluster_by`` for Lakehouse.create_table under the configured layout."""
        if not self.cluster_by:
            return {}
        if settings.layout == "liquid":
            return {"cluster_by": list(self.cluster_by)}
        return {"partition_by": [self.cluster_by[0]]}

    def zorder_by(self, settings: GoldSettings) -> list[str]:
        """Columns OPTIMIZE orders files by: the clustering columns a partition layout leaves over."""
        return list(self.cluster_by[1:]) if settings.layout == "partition" else []


@dataclass(frozen=True)
class ViewDdl:
    view: str
    name: str
    path: Path
    comment: str | None
    statement: str


def render(text: str, cfg: Settings, path: Path) -> str:
    """Replace ``{gold}``-style placeholders with the configured (catalog-qualified) schema names."""
    def prefix(m: re.Match[str]) -> str:
        layer = m.group(1)
        if layer not in LAYERS:
            raise GoldDdlError(f"{path}: unknown placeholder {{{layer}}}; one of "
                               + ", ".join("{" + x + "}" for x in LAYERS))
        return Lakehouse(cfg).schema(layer)

    return _PLACEHOLDER.sub(prefix, text)


def _parse(path: Path, cfg: Settings) -> exp.Create:
    sql = render(path.read_text(), cfg, path)
    try:
        statements = [s for s in sqlglot.parse(sql, dialect="databricks") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise GoldDdlError(f"{path}: does not parse: {exc}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Create):
        raise GoldDdlError(f"{path}: expected exactly one CREATE statement")
    return statements[0]


def _full_name(table: exp.Table) -> str:
    return ".".join(p.name for p in table.parts)


def _check_name(path: Path, found: str, expected: str) -> None:
    if found != expected:
        raise GoldDdlError(f"{path}: creates {found}, but a file named {path.name} must create {expected}")


def _table_ddl(path: Path, cfg: Settings) -> TableDdl:
    create = _parse(path, cfg)
    if create.kind != "TABLE" or not isinstance(create.this, exp.Schema):
        raise GoldDdlError(f"{path}: expected CREATE TABLE IF NOT EXISTS <name> (<columns>)")
    if not create.args.get("exists"):
        raise GoldDdlError(f"{path}: write CREATE TABLE IF NOT EXISTS, so that applying it twice is harmless")
    table = path.stem
    name = Lakehouse(cfg).name("gold", table)
    _check_name(path, _full_name(create.this.this), name)
    columns = []
    for col in create.this.expressions:
        if not isinstance(col, exp.ColumnDef) or col.args.get("kind") is None:
            raise GoldDdlError(f"{path}: every column needs a name and a type ({col.sql()})")
        columns.append(ColumnDef(col.name, col.args["kind"].sql(dialect="spark"), col.sql(dialect="spark", identify=True)))
    cluster_by: tuple[str, ...] = ()
    comment = None
    properties: dict[str, str] = {}
    for prop in (create.args.get("properties") or exp.Properties(expressions=[])).expressions:
        if isinstance(prop, exp.ClusterProperty):
            cluster_by = tuple(c.name for c in prop.expressions)
        elif isinstance(prop, exp.SchemaCommentProperty):
            comment = prop.this.name
        elif type(prop) is exp.Property:  # subclasses are USING, LOCATION, ...
            properties[prop.name] = prop.args["value"].name
    unknown = [c for c in cluster_by if c not in {col.name for col in columns}]
    if unknown:
        raise GoldDdlError(f"{path}: CLUSTER BY names column(s) the table does not have: {', '.join(unknown)}")
    try:
        version = int(properties[VERSION_PROPERTY])
    except (KeyError, ValueError):
        raise GoldDdlError(f"{path}: TBLPROPERTIES needs '{VERSION_PROPERTY}' = '<integer>'") from None
    return TableDdl(table, name, path, version, tuple(columns), cluster_by, comment, properties)


def table_ddl(cfg: Settings, table: str) -> TableDdl:
    path = SQL_DIR / f"{table}.sql"
    if not path.is_file():
        raise GoldDdlError(f"no DDL file for gold table {table!r} ({path})")
    return _table_ddl(path, cfg)


def owned_table_ddl(cfg: Settings, folder: str, table: str) -> TableDdl:
    """A gold table another stage keeps (``sql/<folder>/<table>.sql``): not built by the gold build."""
    path = SQL_DIR / folder / f"{table}.sql"
    if not path.is_file():
        raise GoldDdlError(f"no DDL file for gold table {table!r} ({path})")
    return _table_ddl(path, cfg)


def table_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


def all_table_ddl(cfg: Settings) -> list[TableDdl]:
    return [table_ddl(cfg, p.stem) for p in table_files()]


def view_ddl(cfg: Settings, path: Path) -> ViewDdl:
    create = _parse(path, cfg)
    if create.kind != "VIEW" or not create.args.get("replace"):
        raise GoldDdlError(f"{path}: expected CREATE OR REPLACE VIEW")
    name = Lakehouse(cfg).name("gold", path.stem)
    _check_name(path, _full_name(create.this), name)
    comment = next((p.this.name for p in (create.args.get("properties") or exp.Properties(expressions=[])).expressions
                    if isinstance(p, exp.SchemaCommentProperty)), None)
    # Run the file's own text (not sqlglot's rendering) so that Spark sees what the reader sees.
    return ViewDdl(path.stem, name, path, comment, render(path.read_text(), cfg, path))


def all_view_ddl(cfg: Settings) -> list[ViewDdl]:
    return [view_ddl(cfg, p) for p in sorted(VIEW_DIR.glob("*.sql"))]


# ---- applying ---------------------------------------------------------------------------------------


def _stored_version(spark: SparkSession, name: str) -> int | None:
    rows = spark.sql(f"SHOW TBLPROPERTIES {quote(name)}").collect()
    value = {r["key"]: r["value"] for r in rows}.get(VERSION_PROPERTY)
    return int(value) if value is not None and value.isdigit() else None


# Tables this process has brought to their file's version: (Spark application, name, location, version).
_APPLIED: set[tuple[str, str, str | None, int]] = set()


def apply_table(spark: SparkSession, cfg: Settings, settings: GoldSettings, ddl: TableDdl) -> str:
    """Create the table if it is missing; bring a table made by an older file up to this version."""
    lh = Lakehouse(cfg)
    name = lh.create_table(spark, ddl.name, ", ".join(c.ddl for c in ddl.columns), properties=ddl.properties,
                           comment=ddl.comment, **ddl.layout(settings))
    done = (session_key(spark), name, lh.location(name), ddl.version)
    if done in _APPLIED:
        return name
    stored = _stored_version(spark, name)
    if stored == ddl.version:
        _APPLIED.add(done)
        return name
    if stored is not None and stored > ddl.version:
        raise GoldDdlError(f"{name} was made by version {stored} of {ddl.path.name}, newer than this "
                           f"code's version {ddl.version}; run the newer lakesentinel")
    actual = spark.table(name).schema
    problems = [p for p in diff_schemas(ddl.schema, actual) if "is missing" not in p]
    if problems:
        raise GoldDdlError(f"{name} cannot be brought to version {ddl.version} of {ddl.path} in place:\n  "
                           + "\n  ".join(problems)
                           + "\nDrop the table and run `lakesentinel gold build --full` to rebuild it.")
    present = {f.name for f in actual.fields}
    added = [c.ddl for c in ddl.columns if c.name not in present]
    if added:
        spark.sql(f"ALTER TABLE {quote(name)} ADD COLUMNS ({', '.join(added)})")
    spark.sql(f"ALTER TABLE {quote(name)} SET TBLPROPERTIES ('{VERSION_PROPERTY}' = '{ddl.version}')")
    _APPLIED.add(done)
    return name


def apply_tables(spark: SparkSession, cfg: Settings, settings: GoldSettings) -> list[str]:
    return [apply_table(spark, cfg, settings, ddl) for ddl in all_table_ddl(cfg)]


# Views this process has created: (Spark application, name, statement). Locally they live in the session
# catalog, so each process creates them once; a changed file is applied again.
_CREATED_VIEWS: set[tuple[str, str, str]] = set()


def apply_views(spark: SparkSession, cfg: Settings, refresh: bool = False) -> list[ViewDdl]:
    """Create every view this process has not created yet from its current file (all with ``refresh``)."""
    lh = Lakehouse(cfg)
    for ddl in all_table_ddl(cfg):
        lh.ensure(spark, ddl.name)
    views = all_view_ddl(cfg)
    app = session_key(spark)
    for view in views:
        done = (app, view.name, view.statement)
        if done in _CREATED_VIEWS and not refresh and spark.catalog.tableExists(view.name):
            continue
        try:
            spark.sql(view.statement)
        except Exception as exc:  # Spark's analysis errors name the column; add the file
            raise GoldDdlError(f"{view.path}: {str(exc).splitlines()[0]}") from None
        _CREATED_VIEWS.add(done)
    return views
