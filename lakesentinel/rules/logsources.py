"""What the engine knows about each system table as a rule source: the mapping stage.

For every table: the column that orders rows in time, the key that identifies a row in an alert's
evidence, how late rows may arrive, and field aliases that rules may use instead of raw paths (the
per-source mapping of Sigma's processing pipelines: ``user`` in an audit rule means
``coalesce(user_identity.email, request_params.user)``). Enrichment columns (``list_cost`` on usage,
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

HOUR = 3600


@dataclass(frozen=True)
class LogSourceInfo:
    table: SystemTable
    time_column: str
    evidence_name: str  # name of the key in the alert's evidence map
    evidence_sql: str  # expression giving that key for a row
    lateness_seconds: int
    aliases: dict[str, str] = field(default_factory=dict)  # name -> SQL over the table's columns
    enriched: tuple[tuple[str, str], ...] = ()  # extra columns an enrichment can add (name, type)

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


_USER = "coalesce(user_identity.email, request_params.user, request_params.userName)"

_SOURCES: dict[str, LogSourceInfo] = {}


def _add(name: str, *, evidence: str, evidence_sql: str | None = None, lateness_h: float,
         aliases: dict[str, str] | None = None, enriched: tuple[tuple[str, str], ...] = (),
         time_column: str | None = None) -> None:
    table = SYSTEM_TABLES[name]
    time_col = time_column or table.event_time
    if time_col is None:
        return  # snapshot tables without a time column are not rule sources
    _SOURCES[name] = LogSourceInfo(table, time_col, evidence, evidence_sql or evidence, int(lateness_h * HOUR),
                                   dict(aliases or {}), enriched)


_add("access.audit", evidence="event_id", lateness_h=1, aliases={
    "user": _USER, "actor": "user_identity.email", "ip": "source_ip_address", "service": "service_name",
    "action": "action_name", "status": "response.status_code", "workspace": "workspace_id",
    "metastore": "request_params.metastore_id",
})
_add("billing.usage", evidence="record_id", lateness_h=48, aliases={
    "dbus": "usage_quantity", "job": "usage_metadata.job_id", "cluster": "usage_metadata.cluster_id",
    "warehouse": "usage_metadata.warehouse_id", "pipeline": "usage_metadata.dlt_pipeline_id",
    "run_as": "identity_metadata.run_as", "workspace": "workspace_id", "serverless": "product_features.is_serverless",
}, enriched=(("list_price", "decimal(38,18)"), ("list_cost", "decimal(38,18)")))
_add("query.history", evidence="statement_id", lateness_h=4, aliases={
    "user": "executed_by", "warehouse": "compute.warehouse_id", "workspace": "workspace_id",
    "status": "execution_status",
})
_add("lakeflow.job_run_timeline", evidence="run_id", lateness_h=4, aliases={
    "job": "job_id", "run": "run_id", "workspace": "workspace_id",
}, enriched=(("job_name", "string"), ("job_sla_seconds", "bigint"), ("job_timeout_seconds", "bigint"),
             ("on_all_purpose_cluster", "boolean")))
_add("lakeflow.job_task_run_timeline", evidence="run_id", lateness_h=4, aliases={
    "job": "job_id", "run": "job_run_id", "task": "task_key", "workspace": "workspace_id",
})
_add("lakeflow.jobs", evidence="job_id", evidence_sql="concat(job_id, '@', cast(change_time as string))",
     lateness_h=4, aliases={"job": "job_id", "workspace": "workspace_id"})
_add("lakeflow.job_tasks", evidence="task_key",
     evidence_sql="concat(job_id, '/', task_key, '@', cast(change_time as string))", lateness_h=4)
_add("lakeflow.pipelines", evidence="pipeline_id",
     evidence_sql="concat(pipeline_id, '@', cast(change_time as string))", lateness_h=4,
     aliases={"pipeline": "pipeline_id", "workspace": "workspace_id"})
_add("compute.clusters", evidence="cluster_id", evidence_sql="concat(cluster_id, '@', cast(change_time as string))",
     lateness_h=4, aliases={"cluster": "cluster_id", "owner": "owned_by", "workspace": "workspace_id"})
_add("compute.warehouses", evidence="warehouse_id",
     evidence_sql="concat(warehouse_id, '@', cast(change_time as string))", lateness_h=4,
     aliases={"warehouse": "warehouse_id", "workspace": "workspace_id"})
_add("compute.warehouse_events", evidence="warehouse_event",
     evidence_sql="concat(warehouse_id, '/', event_type, '@', cast(event_time as string))", lateness_h=4,
     aliases={"warehouse": "warehouse_id", "workspace": "workspace_id"})
_add("billing.list_prices", evidence="sku_name", evidence_sql="concat(sku_name, '@', cast(price_start_time as string))",
     lateness_h=48)

LOGSOURCES: dict[str, LogSourceInfo] = dict(_SOURCES)


def logsource(name: str) -> LogSourceInfo:
    try:
        return LOGSOURCES[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a rule source; one of {', '.join(LOGSOURCES)}") from None
