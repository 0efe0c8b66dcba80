"""The catalogue of the Databricks system tables lakesentinel reads: one spec per table.

Each spec holds the table's schema, natural key, the column that orders its rows in time, how its
rows change, whether Databricks can stream it, and how the scoring stages read it (:class:`Scoring`:
evidence key, lateness, the time that places a row in a detector window, field aliases, enrichment
columns). The simulator writes these schemas, replay checks exports against them, bronze keeps them,
silver reads them, and the rules (``rules/logsources.py``) and detectors (``detectors/metrics.py``)
take their scoring facts from here; nothing else defines them. docs/system-tables.md has the
checklist for adding a table.

Column names, order, nested types and semantics follow the Databricks system-table reference
(docs plus live ``DESCRIBE TABLE`` captures, 2024 to mid-2026). Fields documented only by unconfirmed
third-party listings are left out (see docs/system-tables.md).

>>> AUDIT.scoring.evidence, AUDIT.scoring.lateness_s, AUDIT.scoring.settle_s
('event_id', 3600, 900)
>>> QUERY_HISTORY.scoring.window_time
'start_time'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Mapping

from pyspark.sql import types as T

from lakesentinel.sources.types import parse_columns

_USAGE_METADATA = (
    "struct<cluster_id: string, job_id: string, warehouse_id: string, instance_pool_id: string, "
    "node_type: string, job_run_id: string, notebook_id: string, dlt_pipeline_id: string, "
    "endpoint_name: string, endpoint_id: string, dlt_update_id: string, dlt_maintenance_id: string, "
    "run_name: string, job_name: string, notebook_path: string, central_clean_room_id: string, "
    "source_region: string, destination_region: string, app_id: string, app_name: string, "
    "metastore_id: string, private_endpoint_name: string, storage_api_type: string, "
    "budget_policy_id: string, ai_runtime_pool_id: string, ai_runtime_workload_id: string, "
    "uc_table_catalog: string, uc_table_schema: string, uc_table_name: string, "
    "database_instance_id: string, sharing_materialization_id: string, usage_policy_id: string, "
    "agent_bricks_id: string, base_environment_id: string>"
)

_PRODUCT_FEATURES = (
    "struct<jobs_tier: string, sql_tier: string, dlt_tier: string, is_serverless: boolean, "
    "is_photon: boolean, serving_type: string, networking: struct<connectivity_type: string>, "
    "ai_runtime: struct<compute_type: string>, model_serving: struct<offering_type: string>, "
    "ai_gateway: struct<feature_type: string>, performance_target: string, "
    "serverless_gpu: struct<workload_type: string>, "
    "agent_bricks: struct<problem_type: string, workload_type: string>, "
    "ai_functions: struct<ai_function: string>, apps: struct<compute_size: string>, "
    "lakeflow_connect: struct<task_type: string, zerobus_request_type: string>, "
    "lakebase: struct<storage_type: string, compute_type: string>, "
    "ai_bi_genie: struct<capability_type: string, offering_type: string>, "
    "genie: struct<offering_type: string>>"
)

_QUERY_SOURCE = (
    "struct<job_info: struct<job_id: string, job_run_id: string, job_task_run_id: string>, "
    "legacy_dashboard_id: string, dashboard_id: string, alert_id: string, notebook_id: string, "
    "sql_query_id: string, genie_space_id: string, "
    "pipeline_info: struct<pipeline_id: string, update_id: string>>"
)

_DATA_TYPE = "struct<type_name: string, type_ddl: string, redacted_type_ddl: string>"
_EXPR = (
    "struct<tag: string, data_type: " + _DATA_TYPE + ", "
    "literal: struct<data_type: " + _DATA_TYPE + ", int_value: int, long_value: bigint, "
    "double_value: double, float_value: float, byte_value: int, short_value: int, "
    "string_value: string, boolean_value: boolean, "
    "decimal_value: struct<value: string, precision: int, scale: int>, binary_value: binary, "
    "timestamp_value: bigint, timestamp_ntz_value: bigint, date_value: bigint, "
    "calendar_interval_value: struct<months: int, days: int, microseconds: bigint>, "
    "day_time_interval_value: bigint, year_month_interval_value: int>, "
    "seq_expression: struct<children: array<bigint>>, "
    "function: struct<function_name: string, arguments: array<bigint>>, "
    "alias: struct<expr: bigint, name: array<string>, metadata: string>, "
    "sort_order: struct<child: bigint, direction: string, null_ordering: string>, "
    "lambda_function: struct<function: bigint, arguments: array<struct<name_parts: array<string>>>>, "
    "window: struct<window_function: bigint, partition_spec: array<bigint>, order_spec: array<bigint>>, "
    "unresolved_extract_value: struct<child: bigint, extraction: bigint>, "
    "update_fields: struct<struct_expression: bigint, field_name: string, value_expression: bigint>, "
    "unresolved_named_lambda_variable: struct<name_parts: array<string>>, "
    "named_argument_expression: struct<key: string, value: bigint>, id: bigint>"
)
_QUERY_PARAMETERS = (
    "struct<named_parameters: map<string, struct<exprs: array<" + _EXPR + ">>>, "
    "pos_parameters: array<struct<exprs: array<" + _EXPR + ">>>, truncated: boolean>"
)

_JOB_TRIGGER = (
    "struct<file_arrival: struct<url: string, min_time_between_triggers_seconds: int, "
    "wait_after_last_change_seconds: int>, periodic: struct<interval: int, units: string>, "
    "continuous: struct<enabled: boolean>, "
    "table_update: struct<table_names: array<string>, min_time_between_triggers_seconds: bigint, "
    "wait_after_last_change_seconds: bigint, condition: string>, "
    "schedule: struct<quartz_cron_expression: string, timezone_id: string>>"
)
_HEALTH_RULES = "array<struct<metric: string, operator: string, value: bigint>>"
_COMPUTE_LIST = "array<struct<type: string, cluster_id: string, warehouse_id: string>>"

# Fields of the Clusters API objects (field lists unconfirmed in the reference; types per the API).
_AWS_ATTRIBUTES = (
    "struct<first_on_demand: int, availability: string, zone_id: string, instance_profile_arn: string, "
    "spot_bid_price_percent: int, ebs_volume_type: string, ebs_volume_count: int, ebs_volume_size: int, "
    "ebs_volume_iops: int, ebs_volume_throughput: int>"
)
_AZURE_ATTRIBUTES = "struct<first_on_demand: int, availability: string, spot_bid_max_price: double>"
_GCP_ATTRIBUTES = (
    "struct<use_preemptible_executors: boolean, zone_id: string, first_on_demand: int, availability: string>"
)


HOUR = 3600


@dataclass(frozen=True)
class Scoring:
    """How the rules and detectors read a table whose rows they score."""

    evidence: str  # name of the key listed in an alert's evidence
    lateness_s: int  # how late a row may land after its event time and still count in a rule's window
    settle_s: int  # how long after a window ends detectors wait before judging it (their watermark delay)
    evidence_sql: str | None = None  # SQL giving that key for a row, when it is not a column
    window_time: str | None = None  # the time that places a row in a detector window, if not ``event_time``
    aliases: Mapping[str, str] = field(default_factory=dict)  # name a rule may use -> SQL over the columns
    enriched: tuple[tuple[str, str], ...] = ()  # columns the rules' enricher can add (name, type)
    entity: tuple[str, str] = ("workspace", "workspace_id")  # what a rule's alert names by default (type, field)


@dataclass(frozen=True)
class SystemTable:
    """One system table: its columns and how rows behave."""

    name: str  # e.g. "billing.usage"
    columns: tuple[tuple[str, str], ...]
    natural_key: tuple[str, ...]
    event_time: str | None  # the column that orders rows in time (or versions them)
    mutation: str  # append | scd2 | corrections | in_place | snapshot
    streamable: bool  # per the Databricks docs
    change_data_feed: bool  # whether the real table has delta.enableChangeDataFeed=true
    scoring: Scoring | None = None  # None: neither rules nor detectors read the table

    @cached_property
    def schema(self) -> T.StructType:
        return parse_columns(list(self.columns))

    @property
    def read_mode(self) -> str:
        """How bronze reads it unless configured: stream, high-water mark batches, or whole snapshots."""
        if self.streamable:
            return "stream"
        return "snapshot" if self.mutation in ("snapshot", "in_place") else "hwm"

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]


def _t(name, columns, key, time, mutation, streamable, cdf=True) -> SystemTable:
    return SystemTable(name, tuple(columns), tuple(key), time, mutation, streamable, cdf)


USAGE = _t(
    "billing.usage",
    [
        ("record_id", "string"), ("account_id", "string"), ("workspace_id", "string"),
        ("sku_name", "string"), ("cloud", "string"), ("usage_start_time", "timestamp"),
        ("usage_end_time", "timestamp"), ("usage_date", "date"),
        ("custom_tags", "map<string,string>"), ("usage_unit", "string"),
        ("usage_quantity", "decimal(38,18)"), ("usage_metadata", _USAGE_METADATA),
        ("identity_metadata", "struct<run_as: string, created_by: string, owned_by: string, run_by: string>"),
        ("record_type", "string"), ("ingestion_date", "date"), ("billing_origin_product", "string"),
        ("product_features", _PRODUCT_FEATURES), ("usage_type", "string"),
    ],
    ["record_id"], "usage_start_time", "corrections", True,
)

LIST_PRICES = _t(
    "billing.list_prices",
    [
        ("price_start_time", "timestamp"), ("price_end_time", "timestamp"), ("account_id", "string"),
        ("sku_name", "string"), ("cloud", "string"), ("currency_code", "string"), ("usage_unit", "string"),
        ("pricing", "struct<default: decimal(38,18), promotional: struct<default: decimal(38,18)>, "
                    "effective_list: struct<default: decimal(38,18)>>"),
    ],
    ["sku_name", "cloud", "currency_code", "usage_unit", "price_start_time"], "price_start_time",
    "in_place", False, cdf=False,
)

AUDIT = _t(
    "access.audit",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("version", "string"),
        ("event_time", "timestamp"), ("event_date", "date"), ("source_ip_address", "string"),
        ("user_agent", "string"), ("session_id", "string"),
        ("user_identity", "struct<email: string, subject_name: string>"),
        ("service_name", "string"), ("action_name", "string"), ("request_id", "string"),
        ("request_params", "map<string,string>"),
        ("response", "struct<status_code: int, error_message: string, result: string>"),
        ("audit_level", "string"), ("event_id", "string"),
        ("identity_metadata", "struct<run_by: string, run_as: string, acting_resource: string, "
                              "run_by_display_name: string, run_as_display_name: string>"),
    ],
    ["event_id"], "event_time", "append", True,
)

WORKSPACES_LATEST = _t(
    "access.workspaces_latest",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("workspace_name", "string"),
        ("workspace_url", "string"), ("create_time", "timestamp"), ("status", "string"),
    ],
    ["workspace_id"], None, "in_place", False, cdf=False,
)

QUERY_HISTORY = _t(
    "query.history",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("statement_id", "string"),
        ("executed_by", "string"), ("session_id", "string"), ("execution_status", "string"),
        ("compute", "struct<type: string, cluster_id: string, warehouse_id: string>"),
        ("executed_by_user_id", "string"), ("statement_text", "string"), ("statement_type", "string"),
        ("error_message", "string"), ("client_application", "string"), ("client_driver", "string"),
        ("total_duration_ms", "bigint"), ("waiting_for_compute_duration_ms", "bigint"),
        ("waiting_at_capacity_duration_ms", "bigint"), ("execution_duration_ms", "bigint"),
        ("compilation_duration_ms", "bigint"), ("total_task_duration_ms", "bigint"),
        ("result_fetch_duration_ms", "bigint"), ("start_time", "timestamp"), ("end_time", "timestamp"),
        ("update_time", "timestamp"), ("read_partitions", "bigint"), ("pruned_files", "bigint"),
        ("read_files", "bigint"), ("read_rows", "bigint"), ("produced_rows", "bigint"),
        ("read_bytes", "bigint"), ("read_io_cache_percent", "tinyint"), ("from_result_cache", "boolean"),
        ("spilled_local_bytes", "bigint"), ("written_bytes", "bigint"), ("shuffle_read_bytes", "bigint"),
        ("query_source", _QUERY_SOURCE), ("executed_as_user_id", "string"), ("executed_as", "string"),
        ("written_rows", "bigint"), ("written_files", "bigint"), ("cache_origin_statement_id", "string"),
        ("query_parameters", _QUERY_PARAMETERS), ("query_tags", "map<string,string>"),
        ("pruned_files_bytes", "bigint"), ("read_files_bytes", "bigint"),
    ],
    ["statement_id"], "update_time", "append", False,
)

JOBS = _t(
    "lakeflow.jobs",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("job_id", "string"), ("name", "string"),
        ("description", "string"), ("creator_id", "string"), ("tags", "map<string,string>"),
        ("change_time", "timestamp"), ("delete_time", "timestamp"), ("run_as", "string"),
        ("trigger", _JOB_TRIGGER), ("trigger_type", "string"), ("run_as_user_name", "string"),
        ("creator_user_name", "string"), ("paused", "boolean"), ("timeout_seconds", "bigint"),
        ("health_rules", _HEALTH_RULES), ("deployment", "struct<kind: string, metadata_file_path: string>"),
        ("create_time", "timestamp"),
    ],
    ["workspace_id", "job_id", "change_time"], "change_time", "scd2", True,
)

JOB_TASKS = _t(
    "lakeflow.job_tasks",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("job_id", "string"), ("task_key", "string"),
        ("depends_on_keys", "array<string>"), ("change_time", "timestamp"), ("delete_time", "timestamp"),
        ("timeout_seconds", "bigint"), ("health_rules", _HEALTH_RULES),
    ],
    ["workspace_id", "job_id", "task_key", "change_time"], "change_time", "scd2", True,
)

JOB_RUN_TIMELINE = _t(
    "lakeflow.job_run_timeline",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("job_id", "string"), ("run_id", "string"),
        ("period_start_time", "timestamp"), ("period_end_time", "timestamp"), ("trigger_type", "string"),
        ("run_type", "string"), ("run_name", "string"), ("compute_ids", "array<string>"),
        ("result_state", "string"), ("termination_code", "string"),
        ("job_parameters", "map<string,map<string,string>>"), ("source_task_run_id", "string"),
        ("root_task_run_id", "string"), ("compute", _COMPUTE_LIST), ("termination_type", "string"),
        ("setup_duration_seconds", "bigint"), ("queue_duration_seconds", "bigint"),
        ("run_duration_seconds", "bigint"), ("cleanup_duration_seconds", "bigint"),
        ("execution_duration_seconds", "bigint"),
    ],
    ["workspace_id", "run_id", "period_start_time"], "period_start_time", "append", True,
)

JOB_TASK_RUN_TIMELINE = _t(
    "lakeflow.job_task_run_timeline",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("job_id", "string"), ("run_id", "string"),
        ("job_run_id", "string"), ("parent_run_id", "string"), ("period_start_time", "timestamp"),
        ("period_end_time", "timestamp"), ("task_key", "string"), ("compute_ids", "array<string>"),
        ("result_state", "string"), ("termination_code", "string"), ("compute", _COMPUTE_LIST),
        ("termination_type", "string"), ("task_parameters", "map<string,string>"),
        ("setup_duration_seconds", "bigint"), ("cleanup_duration_seconds", "bigint"),
        ("execution_duration_seconds", "bigint"),
    ],
    ["workspace_id", "run_id", "period_start_time"], "period_start_time", "append", True,
)

PIPELINES = _t(
    "lakeflow.pipelines",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("pipeline_id", "string"),
        ("pipeline_type", "string"), ("name", "string"), ("created_by", "string"), ("run_as", "string"),
        ("tags", "map<string,string>"),
        ("settings", "struct<photon: boolean, development: boolean, continuous: boolean, "
                     "serverless: boolean, edition: string, channel: string>"),
        ("configuration", "map<string,string>"), ("change_time", "timestamp"),
        ("delete_time", "timestamp"), ("create_time", "timestamp"),
    ],
    ["workspace_id", "pipeline_id", "change_time"], "change_time", "scd2", True,
)

CLUSTERS = _t(
    "compute.clusters",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("cluster_id", "string"),
        ("cluster_name", "string"), ("owned_by", "string"), ("create_time", "timestamp"),
        ("delete_time", "timestamp"), ("driver_node_type", "string"), ("worker_node_type", "string"),
        ("worker_count", "bigint"), ("min_autoscale_workers", "bigint"), ("max_autoscale_workers", "bigint"),
        ("auto_termination_minutes", "bigint"), ("enable_elastic_disk", "boolean"),
        ("tags", "map<string,string>"), ("cluster_source", "string"), ("init_scripts", "array<string>"),
        ("aws_attributes", _AWS_ATTRIBUTES), ("azure_attributes", _AZURE_ATTRIBUTES),
        ("gcp_attributes", _GCP_ATTRIBUTES), ("driver_instance_pool_id", "string"),
        ("worker_instance_pool_id", "string"), ("dbr_version", "string"), ("change_time", "timestamp"),
        ("change_date", "date"), ("data_security_mode", "string"), ("policy_id", "string"),
    ],
    ["workspace_id", "cluster_id", "change_time"], "change_time", "scd2", True,
)

NODE_TYPES = _t(
    "compute.node_types",
    [
        ("account_id", "string"), ("node_type", "string"), ("core_count", "double"),
        ("memory_mb", "bigint"), ("gpu_count", "bigint"),
    ],
    ["account_id", "node_type"], None, "snapshot", False, cdf=False,
)

WAREHOUSES = _t(
    "compute.warehouses",
    [
        ("warehouse_id", "string"), ("workspace_id", "string"), ("account_id", "string"),
        ("warehouse_name", "string"), ("warehouse_type", "string"), ("warehouse_channel", "string"),
        ("warehouse_size", "string"), ("min_clusters", "int"), ("max_clusters", "int"),
        ("auto_stop_minutes", "int"), ("tags", "map<string,string>"), ("change_time", "timestamp"),
        ("delete_time", "timestamp"),
    ],
    ["workspace_id", "warehouse_id", "change_time"], "change_time", "scd2", True,
)

WAREHOUSE_EVENTS = _t(
    "compute.warehouse_events",
    [
        ("account_id", "string"), ("workspace_id", "string"), ("warehouse_id", "string"),
        ("event_type", "string"), ("cluster_count", "int"), ("event_time", "timestamp"),
    ],
    ["workspace_id", "warehouse_id", "event_time", "event_type"], "event_time", "append", True,
)

# ---- how the scoring stages read each table ---------------------------------------------------------
# Two delays, on purpose: a rule keeps a window open for rows up to ``lateness_s`` late (state only,
# its alerts do not wait), while a detector judges a window only ``settle_s`` after it ends (its alerts
# do wait), so detectors trade completeness for latency where the table's tail is long.
def _scoring(table: SystemTable, **kwargs) -> SystemTable:
    return replace(table, scoring=Scoring(**kwargs))


_USER = "coalesce(user_identity.email, request_params.user, request_params.userName)"
_CHANGE = "concat({key}, '@', cast(change_time as string))"

AUDIT = _scoring(
    AUDIT, evidence="event_id", lateness_s=1 * HOUR, settle_s=HOUR // 4, entity=("user", "user"), aliases={
        "user": _USER, "actor": "user_identity.email", "ip": "source_ip_address", "service": "service_name",
        "action": "action_name", "status": "response.status_code", "workspace": "workspace_id",
        "metastore": "request_params.metastore_id",
    })
USAGE = _scoring(
    USAGE, evidence="record_id", lateness_s=48 * HOUR, settle_s=6 * HOUR, aliases={
        "dbus": "usage_quantity", "job": "usage_metadata.job_id", "cluster": "usage_metadata.cluster_id",
        "warehouse": "usage_metadata.warehouse_id", "pipeline": "usage_metadata.dlt_pipeline_id",
        "run_as": "identity_metadata.run_as", "workspace": "workspace_id",
        "serverless": "product_features.is_serverless",
    }, enriched=(("list_price", "decimal(38,18)"), ("list_cost", "decimal(38,18)")))
QUERY_HISTORY = _scoring(
    QUERY_HISTORY, evidence="statement_id", lateness_s=4 * HOUR, settle_s=1 * HOUR, window_time="start_time",
    entity=("warehouse", "warehouse"), aliases={
        "user": "executed_by", "warehouse": "compute.warehouse_id", "workspace": "workspace_id",
        "status": "execution_status",
    })
JOB_RUN_TIMELINE = _scoring(
    JOB_RUN_TIMELINE, evidence="run_id", lateness_s=4 * HOUR, settle_s=1 * HOUR, window_time="period_end_time",
    entity=("job", "job_id"), aliases={"job": "job_id", "run": "run_id", "workspace": "workspace_id"},
    enriched=(("job_name", "string"), ("job_sla_seconds", "bigint"), ("job_timeout_seconds", "bigint"),
              ("on_all_purpose_cluster", "boolean")))
JOB_TASK_RUN_TIMELINE = _scoring(
    JOB_TASK_RUN_TIMELINE, evidence="run_id", lateness_s=4 * HOUR, settle_s=1 * HOUR, entity=("job", "job_id"),
    aliases={"job": "job_id", "run": "job_run_id", "task": "task_key", "workspace": "workspace_id"})
JOBS = _scoring(
    JOBS, evidence="job_id", evidence_sql=_CHANGE.format(key="job_id"), lateness_s=4 * HOUR, settle_s=1 * HOUR,
    entity=("job", "job_id"), aliases={"job": "job_id", "workspace": "workspace_id"})
JOB_TASKS = _scoring(
    JOB_TASKS, evidence="task_key", evidence_sql="concat(job_id, '/', task_key, '@', cast(change_time as string))",
    lateness_s=4 * HOUR, settle_s=1 * HOUR)
PIPELINES = _scoring(
    PIPELINES, evidence="pipeline_id", evidence_sql=_CHANGE.format(key="pipeline_id"), lateness_s=4 * HOUR,
    settle_s=1 * HOUR, entity=("pipeline", "pipeline_id"), aliases={"pipeline": "pipeline_id", "workspace": "workspace_id"})
CLUSTERS = _scoring(
    CLUSTERS, evidence="cluster_id", evidence_sql=_CHANGE.format(key="cluster_id"), lateness_s=4 * HOUR,
    settle_s=1 * HOUR, entity=("cluster", "cluster_id"),
    aliases={"cluster": "cluster_id", "owner": "owned_by", "workspace": "workspace_id"})
WAREHOUSES = _scoring(
    WAREHOUSES, evidence="warehouse_id", evidence_sql=_CHANGE.format(key="warehouse_id"), lateness_s=4 * HOUR,
    settle_s=1 * HOUR, entity=("warehouse", "warehouse_id"),
    aliases={"warehouse": "warehouse_id", "workspace": "workspace_id"})
WAREHOUSE_EVENTS = _scoring(
    WAREHOUSE_EVENTS, evidence="warehouse_event", lateness_s=4 * HOUR, settle_s=1 * HOUR,
    evidence_sql="concat(warehouse_id, '/', event_type, '@', cast(event_time as string))",
    entity=("warehouse", "warehouse_id"), aliases={"warehouse": "warehouse_id", "workspace": "workspace_id"})
LIST_PRICES = _scoring(
    LIST_PRICES, evidence="sku_name", evidence_sql="concat(sku_name, '@', cast(price_start_time as string))",
    lateness_s=48 * HOUR, settle_s=6 * HOUR)

SYSTEM_TABLES: dict[str, SystemTable] = {
    t.name: t
    for t in (
        USAGE, LIST_PRICES, AUDIT, WORKSPACES_LATEST, QUERY_HISTORY, JOBS, JOB_TASKS,
        JOB_RUN_TIMELINE, JOB_TASK_RUN_TIMELINE, PIPELINES, CLUSTERS, NODE_TYPES, WAREHOUSES,
        WAREHOUSE_EVENTS,
    )
}


def system_table(name: str) -> SystemTable:
    """Look up by ``billing.usage`` or ``system.billing.usage``."""
    key = name.removeprefix("system.")
    if key not in SYSTEM_TABLES:
        raise KeyError(f"unknown system table {name!r}; known: {', '.join(SYSTEM_TABLES)}")
    return SYSTEM_TABLES[key]
