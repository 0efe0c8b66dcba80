"""Each system table as a rule source: the mapping stage, read from the catalogue in ``sources/``.

For every table: the column that orders rows in time, the key that identifies a row in an alert's
evidence, how late rows may arrive, and field aliases that rules may use instead of raw paths (the
per-source mapping of Sigma's processing pipelines: ``user`` in an audit rule means
``coalesce(user_identity.email, request_params.user)``). All of it is defined per table in
:mod:`lakesentinel.sources.system_tables`; this module only shapes it for the compiler. Enrichment columns (``list_cost`` on usage,
``job_sla_seconds`` on job runs) are added by :mod:`lakesentinel.rules.enrich` when a rule reads them.

>>> audit = logsource("access.audit")
>>> audit.time_column, audit.evidence_name, audit.aliases["ip"]
('event_time', 'event_id', 'source_ip_address')
>>> logsource("billing.usage").schema["list_cost"].dataType.simpleString()
'decimal(38,18)'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pyspark.sql import types as T

from lakesentinel.sources.system_tables import SYSTEM_TABLES, SystemTable
from lakesentinel.sources.types import parse_type


@dataclass(frozen=True)
class LogSourceInfo:
    table: SystemTable
    time_column: str
    evidence_name: str  # name of the key in the alert's evidence map
    evidence_sql: str  # expression giving that key for a row
    lateness_seconds: int
    aliases: dict[str, str] = field(default_factory=dict)  # name -> SQL over the table's columns
    enriched: tuple[tuple[str, str], ...] = ()  # extra columns an enrichment can add (name, type)
    entity: tuple[str, str] = ("workspace", "workspace_id")  # what an alert names when the rule does not say

    @property
    def name(self) -> str:
        return self.table.name

    @cached_property
    def schema(self) -> T.StructType:
        """The table's columns plus the enrichment columns rules may read."""
        fields = list(self.table.schema.fields)
        fields += [T.StructField(n, parse_type(t), True) for n, t in self.enriched]
        return T.StructType(fields)

    @property
    def enriched_names(self) -> set[str]:
        return {n for n, _ in self.enriched}


def _info(table: SystemTable) -> LogSourceInfo | None:
    scoring = table.scoring
    if scoring is None or table.event_time is None:
        return None  # snapshot tables without a time column are not rule sources
    return LogSourceInfo(table, table.event_time, scoring.evidence, scoring.evidence_sql or scoring.evidence,
                         scoring.lateness_s, dict(scoring.aliases), scoring.enriched, scoring.entity)


_SOURCES = {name: info for name, table in SYSTEM_TABLES.items() if (info := _info(table)) is not None}
LOGSOURCES: dict[str, LogSourceInfo] = dict(_SOURCES)


def logsource(name: str) -> LogSourceInfo:
    try:
        return LOGSOURCES[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a rule source; one of {', '.join(LOGSOURCES)}") from None
