"""What detectors can measure: per source table, the dimensions an entity is keyed by and the measures
aggregated per window, as Spark columns over the table's exact columns.

This is the one place a metric is defined. List cost, for instance, is usage priced by
:mod:`lakesentinel.sources.pricing`, the same price and cost silver and the rules use.

>>> sorted(SOURCES)
['access.audit', 'billing.usage', 'lakeflow.job_run_timeline', 'query.history']
>>> SOURCES["billing.usage"].measures["list_cost"].unit
'USD'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.settings import Settings
from lakesentinel.sources import pricing
from lakesentinel.sources.system_tables import SYSTEM_TABLES


@dataclass(frozen=True)
class Field:
    """One named column derived from a source row."""

    name: str
    column: Callable[[], Column]
    description: str
    unit: str | None = None
    kind: str = "number"  # number | key (a string counted with count_distinct)


@dataclass(frozen=True)
class MetricSource:
    """A system table as detectors see it."""

    table: str
    event_time: str  # column that places a row in a window
    evidence: str  # key of a source row, listed in alerts
    lateness: str  # default watermark delay (the catalogue's settle time)
    dimensions: dict[str, Field]
    measures: dict[str, Field]
    keep: Callable[[], Column] | None = None  # rows a detector ever looks at
    prepare: Callable[[SparkSession, Settings, DataFrame], DataFrame] | None = None
    dynamic_dimensions: dict[str, Callable[[str], Column]] = field(default_factory=dict)

    def dimension(self, name: str) -> Field | None:
        """A fixed dimension, or a dynamic one such as ``tags.cost_center``."""
        if name in self.dimensions:
            return self.dimensions[name]
        prefix, _, key = name.partition(".")
        if key and prefix in self.dynamic_dimensions and re.fullmatch(r"[A-Za-z0-9_:\-]+", key):
            build = self.dynamic_dimensions[prefix]
            return Field(name, lambda: build(key), f"value of {prefix} key {key!r}")
        return None


def _catalogued(name: str) -> dict:
    """Table, event time, evidence key and lateness of a source, as the catalogue in ``sources/`` defines them."""
    table = SYSTEM_TABLES[name]
    scoring = table.scoring
    return dict(table=name, event_time=scoring.window_time or table.event_time, evidence=scoring.evidence,
                lateness=f"{scoring.settle_s} seconds")


def _f(name: str, column: Callable[[], Column], description: str, unit: str | None = None,
       kind: str = "number") -> tuple[str, Field]:
    return name, Field(name, column, description, unit, kind)


def _one() -> Column:
    return F.lit(1.0)


def _flag(condition: Column) -> Column:
    return F.when(condition, F.lit(1.0)).otherwise(F.lit(0.0))


# ---- billing.usage ---------------------------------------------------------------------------------
def priced_usage(spark: SparkSession, cfg: Settings, usage: DataFrame) -> DataFrame:
    """Usage rows with ``list_price`` and ``list_cost`` as :mod:`lakesentinel.sources.pricing` defines them.

    The price table is read as a static table, so each micro-batch sees the prices as they are then.
    Usage without a price keeps a null price rather than being dropped.
    """
    from lakesentinel.lakehouse import Lakehouse

    lh = Lakehouse(cfg)
    return pricing.price_usage(usage, pricing.price_table(lh.read(spark, lh.source("billing.list_prices"))))


USAGE = MetricSource(
    **_catalogued("billing.usage"),
    # Corrections land days later, long after their window has been scored; detectors judge usage
    # as first reported and leave restated cost to the cost facts.
    keep=lambda: F.col("record_type") == "ORIGINAL",
    prepare=priced_usage,
    dimensions=dict([
        _f("workspace_id", lambda: F.col("workspace_id"), "workspace"),
        _f("sku_name", lambda: F.col("sku_name"), "SKU"),
        _f("cloud", lambda: F.col("cloud"), "cloud"),
        _f("billing_origin_product", lambda: F.col("billing_origin_product"), "product (JOBS, SQL, ALL_PURPOSE, ...)"),
        _f("usage_type", lambda: F.col("usage_type"), "usage type"),
        _f("cluster_id", lambda: F.col("usage_metadata.cluster_id"), "cluster"),
        _f("warehouse_id", lambda: F.col("usage_metadata.warehouse_id"), "SQL warehouse"),
        _f("job_id", lambda: F.col("usage_metadata.job_id"), "job"),
        _f("pipeline_id", lambda: F.col("usage_metadata.dlt_pipeline_id"), "pipeline"),
        _f("endpoint_name", lambda: F.col("usage_metadata.endpoint_name"), "serving endpoint"),
        _f("run_as", lambda: F.col("identity_metadata.run_as"), "identity the workload ran as"),
        _f("owned_by", lambda: F.col("identity_metadata.owned_by"), "owner (warehouses, apps)"),
    ]),
    dynamic_dimensions={"tags": lambda key: F.col("custom_tags").getItem(key)},
    measures=dict([
        _f("usage_quantity", lambda: F.col("usage_quantity").cast("double"), "units consumed (DBU mostly)", "DBU"),
        # Priced as decimal like silver, read in double: detectors compute in floats.
        _f("list_cost", lambda: F.col("list_cost").cast("double"), "usage at effective list price", "USD"),
        _f("records", _one, "usage records"),
    ]),
)

# ---- query.history -----------------------------------------------------------------------------------
QUERIES = MetricSource(
    **_catalogued("query.history"),
    dimensions=dict([
        _f("workspace_id", lambda: F.col("workspace_id"), "workspace"),
        _f("warehouse_id", lambda: F.col("compute.warehouse_id"), "SQL warehouse"),
        _f("cluster_id", lambda: F.col("compute.cluster_id"), "cluster"),
        _f("compute_type", lambda: F.col("compute.type"), "WAREHOUSE or SERVERLESS_COMPUTE"),
        _f("executed_by", lambda: F.col("executed_by"), "user or service principal"),
        _f("statement_type", lambda: F.col("statement_type"), "SELECT, INSERT, ..."),
        _f("client_application", lambda: F.col("client_application"), "client application"),
        _f("execution_status", lambda: F.col("execution_status"), "FINISHED, FAILED or CANCELED"),
        _f("from_result_cache", lambda: F.col("from_result_cache").cast("string"),
           "'true' when the result came from the result cache (no compute ran)"),
    ]),
    measures=dict([
        _f("queries", _one, "statements"),
        _f("failed", lambda: _flag(F.col("execution_status") == "FAILED"), "failed statements"),
        _f("total_duration_ms", lambda: F.col("total_duration_ms").cast("double"), "wall time", "ms"),
        _f("running_duration_ms",
           lambda: (F.col("total_duration_ms") - F.coalesce(F.col("waiting_for_compute_duration_ms"), F.lit(0))).cast("double"),
           "wall time less the wait for a stopped warehouse to start (queueing, compilation, execution)", "ms"),
        _f("execution_duration_ms", lambda: F.col("execution_duration_ms").cast("double"), "execution time", "ms"),
        _f("compilation_duration_ms", lambda: F.col("compilation_duration_ms").cast("double"), "compilation", "ms"),
        _f("waiting_at_capacity_duration_ms", lambda: F.col("waiting_at_capacity_duration_ms").cast("double"),
           "queued for a free cluster", "ms"),
        _f("waiting_for_compute_duration_ms", lambda: F.col("waiting_for_compute_duration_ms").cast("double"),
           "waiting for compute to start", "ms"),
        _f("read_bytes", lambda: F.col("read_bytes").cast("double"), "bytes read", "bytes"),
        _f("spilled_local_bytes", lambda: F.col("spilled_local_bytes").cast("double"), "bytes spilled", "bytes"),
    ]),
)

# ---- lakeflow.job_run_timeline --------------------------------------------------------------------
_FAILED_STATES = ("FAILED", "ERROR", "TIMED_OUT")

JOB_RUNS = MetricSource(
    **_catalogued("lakeflow.job_run_timeline"),
    # Long runs are sliced into hourly rows; only the last slice carries the outcome and durations.
    keep=lambda: F.col("result_state").isNotNull(),
    dimensions=dict([
        _f("workspace_id", lambda: F.col("workspace_id"), "workspace"),
        _f("job_id", lambda: F.col("job_id"), "job"),
        _f("run_type", lambda: F.col("run_type"), "JOB_RUN, SUBMIT_RUN, ..."),
        _f("trigger_type", lambda: F.col("trigger_type"), "CRON, ONETIME_RETRY, ..."),
        _f("result_state", lambda: F.col("result_state"), "outcome"),
    ]),
    measures=dict([
        _f("runs", _one, "finished runs (a repair attempt counts as a run)"),
        _f("failed", lambda: _flag(F.col("result_state").isin(*_FAILED_STATES)), "failed, errored or timed-out attempts"),
        _f("failed_run", lambda: F.when(F.col("result_state").isin(*_FAILED_STATES), F.col("run_id")),
           "run id of a failed attempt (count_distinct: failed runs, a failed repair not counted twice)", kind="key"),
        _f("run_duration_seconds", lambda: F.col("run_duration_seconds").cast("double"), "run time", "s"),
        _f("execution_duration_seconds", lambda: F.col("execution_duration_seconds").cast("double"),
           "execution time", "s"),
        _f("queue_duration_seconds", lambda: F.col("queue_duration_seconds").cast("double"), "queued", "s"),
        _f("setup_duration_seconds", lambda: F.col("setup_duration_seconds").cast("double"), "setup", "s"),
    ]),
)

# ---- access.audit -------------------------------------------------------------------------------------
LOGIN_ACTIONS = ("aadBrowserLogin", "aadTokenLogin", "certLogin", "jwtLogin", "login", "oidcBrowserLogin",
                 "samlLogin", "tokenLogin")
DOWNLOAD_ACTIONS = ("downloadPreviewResults", "downloadLargeResults", "filesGet", "getModelVersionDownloadUri",
                    "getModelVersionSignedDownloadUri")
PERMISSION_ACTIONS = ("changeClusterAcl", "changeJobAcl", "changeWarehouseAcls", "grantPermission",
                      "updatePermissions", "changePermissions", "transferObjectOwnership", "changeSecurableOwner",
                      "updateRoleAssignment", "putAcl", "setAdmin", "setAccountAdmin", "addPrincipalToGroup",
                      "updateSharePermissions")


def _denied() -> Column:
    return F.col("response.status_code").isin(401, 403)


def _download() -> Column:
    # Bulk exports as in the audit-log detection catalogue: Arrow result fetches (what the UI does on
    # every query) and source exports are routine and not counted.
    action = F.col("action_name")
    params = F.col("request_params")
    return (action.isin(*DOWNLOAD_ACTIONS)
            | ((action == "workspaceExport") & (F.coalesce(params.getItem("workspaceExportFormat"), F.lit("")) != "SOURCE"))
            | ((action == "downloadQueryResult") & (F.coalesce(params.getItem("fileType"), F.lit("")) != "arrows")))


AUDIT = MetricSource(
    **_catalogued("access.audit"),
    dimensions=dict([
        _f("workspace_id", lambda: F.col("workspace_id"), "workspace ('0' for account-level events)"),
        _f("user", lambda: F.col("user_identity.email"), "acting identity"),
        _f("source_ip", lambda: F.col("source_ip_address"), "source IP"),
        _f("service_name", lambda: F.col("service_name"), "service"),
        _f("action_name", lambda: F.col("action_name"), "action"),
        _f("audit_level", lambda: F.col("audit_level"), "WORKSPACE_LEVEL or ACCOUNT_LEVEL"),
    ]),
    measures=dict([
        _f("events", _one, "audit events"),
        _f("denied", lambda: _flag(_denied()), "requests refused with 401 or 403"),
        _f("failed_logins", lambda: _flag(F.col("action_name").isin(*LOGIN_ACTIONS) & _denied()), "failed logins"),
        _f("secret_reads", lambda: _flag(F.col("action_name") == "getSecret"), "secret reads"),
        _f("secret_key", lambda: F.when(F.col("action_name") == "getSecret",
                                        F.concat_ws("/", F.col("request_params").getItem("scope"),
                                                    F.col("request_params").getItem("key"))),
           "scope/key of a secret read (count_distinct)", kind="key"),
        _f("downloads", lambda: _flag(_download()), "result downloads and exports"),
        _f("tokens_created", lambda: _flag(F.col("action_name") == "generateDbToken"), "personal access tokens created"),
        _f("permission_changes", lambda: _flag(F.col("action_name").isin(*PERMISSION_ACTIONS)),
           "ACL, ownership and group changes"),
    ]),
)

SOURCES: dict[str, MetricSource] = {s.table: s for s in (USAGE, QUERIES, JOB_RUNS, AUDIT)}
