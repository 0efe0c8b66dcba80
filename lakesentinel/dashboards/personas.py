"""What each persona's dashboard shows: its datasets (a gold view, a metric view's measures, an incident
review) and the widgets over them. The generator (``lakeview.py``) turns these into ``.lvdash.json``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GoldView:
    """Chosen columns of one of gold's views (``sql/views/``) or tables (e.g. ``fact_recommendation``)."""

    view: str
    columns: tuple[str, ...]
    where: str | None = None
    order_by: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Metric:
    """Measures of a metric view (``analytics/metric_views/``) grouped by some of its dimensions."""

    view: str
    by: tuple[str, ...]
    measures: tuple[str, ...]
    where: str | None = None


@dataclass(frozen=True)
class Review:
    """Chosen columns of an incident review (``reviews/incident_review.py``) over the last 90 days held."""

    review: str
    columns: tuple[str, ...]
    where: str | None = None
    order_by: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    source: GoldView | Metric | Review


@dataclass(frozen=True)
class Widget:
    kind: str  # table | bar | line | counter
    dataset: str
    title: str
    x: str | None = None  # bar, line
    y: str | None = None  # bar, line: summed; counter: the value
    color: str | None = None  # bar, line: one series per value
    columns: tuple[str, ...] | None = None  # table: default every column of the dataset
    width: int = 3  # of 6


@dataclass(frozen=True)
class Persona:
    key: str
    title: str
    intro: str
    datasets: tuple[Dataset, ...]
    widgets: tuple[Widget, ...] = field(default_factory=tuple)


_RESPONSE_COLUMNS = ("breakdown", "value", "incidents", "acknowledged", "resolved", "mtta_s", "mttr_s",
                     "mttr_manual_s", "false_positives", "false_positive_share")
_NOISE_COLUMNS = ("noise_rank", "source_id", "kind", "domain", "incidents", "alerts", "alerts_per_incident",
                  "alert_share", "false_positives")
_IMPACT_COLUMNS = ("incident_id", "rule_id", "domain", "severity", "entity_type", "entity_id", "first_seen",
                   "window_hours", "window_cost", "baseline_cost", "excess_cost", "failed_runs", "failed_run_cost",
                   "queries", "cost_impact")

FINOPS = Persona(
    "finops", "FinOps", "Spend at list prices: where it goes, what drives it, what is not attributed, and what "
    "incidents cost.",
    (
        Dataset("cost_by_week", "Cost by week and product", Metric("cost", ("usage_week", "product"), ("list_cost",))),
        Dataset("cost_by_team", "Cost by team", Metric("cost", ("team",), ("list_cost", "untagged_cost", "serverless_cost"))),
        Dataset("spend_by_workspace", "Spend by workspace and day", GoldView(
            "v_spend_by_workspace_daily", ("date_key", "workspace_id", "workspace_name", "list_cost",
                                           "serverless_list_cost", "untagged_list_cost"), order_by="date_key DESC, list_cost DESC")),
        Dataset("cost_drivers", "Top cost drivers of each day", GoldView(
            "v_cost_drivers_daily", ("date_key", "resource_type", "resource_id", "resource_name", "workspace_id",
                                     "list_cost", "baseline_list_cost", "increase", "cost_rank"),
            where="cost_rank <= 5", order_by="date_key DESC, cost_rank")),
        Dataset("top_jobs", "Top jobs and pipelines by cost", GoldView(
            "v_top_jobs_and_pipelines", ("resource_type", "workspace_id", "resource_id", "resource_name", "list_cost",
                                         "runs", "failed_runs"), order_by="list_cost DESC", limit=50)),
        Dataset("tag_coverage", "Showback tag coverage", GoldView(
            "v_tag_coverage_daily", ("date_key", "workspace_id", "list_cost", "tag_coverage", "untagged_share"),
            order_by="date_key DESC")),
        Dataset("incident_cost", "Incidents by cost impact", Review(
            "impact", _IMPACT_COLUMNS, where="cost_impact > 0", order_by="cost_impact DESC", limit=50)),

        Dataset("advisor_savings", "Open advisor findings: estimated and measured savings", GoldView(
            "fact_recommendation", ("advisor", "kind", "status", "finding_id", "entity_type", "entity_name", "action",
                                    "monthly_cost_impact", "measured_monthly_saving"),
            where="is_active AND status IN ('open', 'accepted', 'done')", order_by="monthly_cost_impact DESC", limit=100)),
    ),
    (
        Widget("bar", "cost_by_week", "Cost by week and product", x="usage_week", y="list_cost", color="product", width=6),
        Widget("bar", "cost_by_team", "Cost by team", x="team", y="list_cost"),
        Widget("table", "cost_by_team", "Untagged and serverless cost by team"),
        Widget("line", "spend_by_workspace", "Spend by workspace", x="date_key", y="list_cost", color="workspace_id", width=6),
        Widget("table", "cost_drivers", "What drove spend each day", width=6),
        Widget("table", "top_jobs", "Top jobs and pipelines"),
        Widget("table", "tag_coverage", "Tag coverage"),
        Widget("table", "incident_cost", "What incidents cost (from the cost and job-run facts)", width=6),

        Widget("bar", "advisor_savings", "Estimated monthly saving of open findings by advisor", x="advisor",
               y="monthly_cost_impact", color="kind"),
        Widget("table", "advisor_savings", "Advisor findings (lakesentinel advise)"),
    ),
)

PLATFORM = Persona(
    "platform", "Platform", "Warehouses, compute and tables: utilisation, query performance, serverless adoption "
    "and table freshness.",
    (
        Dataset("warehouse_utilization", "Warehouse utilisation by day", GoldView(
            "v_warehouse_utilization_daily", ("date_key", "workspace_id", "warehouse_id", "warehouse_name",
                                              "warehouse_size", "running_hours", "queued_queries", "list_cost"),
            order_by="date_key DESC, list_cost DESC")),
        Dataset("query_performance", "Query latency per warehouse", Metric(
            "performance", ("query_date", "warehouse_id"), ("queries", "p95_latency_ms", "avg_queue_ms", "spilled_bytes"))),
        Dataset("serverless", "Serverless share of cost", GoldView(
            "v_serverless_adoption_daily", ("date_key", "workspace_id", "billing_origin_product", "list_cost",
                                            "serverless_share"), order_by="date_key DESC")),
        Dataset("node_types", "Node type efficiency", GoldView(
            "v_node_type_efficiency", ("node_type", "core_count", "billed_hours", "list_cost", "cost_per_billed_hour"),
            order_by="list_cost DESC")),
        Dataset("table_freshness", "Table freshness", GoldView(
            "v_table_freshness", ("table_full_name", "last_write_at", "hours_since_write", "reads", "writes"),
            order_by="hours_since_write DESC", limit=100)),
        Dataset("table_health", "Table reads and writes by day", Metric(
            "table_health", ("access_date",), ("tables", "read_events", "write_events", "denied_events"))),

        Dataset("open_findings", "Open warehouse, workflow and table findings", GoldView(
            "fact_recommendation", ("finding_id", "advisor", "kind", "entity_type", "entity_name", "title", "action",
                                    "monthly_cost_impact", "monthly_hours_impact", "status", "last_detected_at"),
            where="is_active AND status IN ('open', 'accepted')", order_by="advisor, monthly_cost_impact DESC",
            limit=200)),
    ),
    (
        Widget("line", "query_performance", "P95 latency by warehouse", x="query_date", y="p95_latency_ms",
               color="warehouse_id", width=6),
        Widget("table", "warehouse_utilization", "Warehouse utilisation", width=6),
        Widget("bar", "serverless", "Cost by product", x="date_key", y="list_cost", color="billing_origin_product"),
        Widget("table", "node_types", "Node types"),
        Widget("table", "table_freshness", "Tables by time since their last write"),
        Widget("line", "table_health", "Table reads by day", x="access_date", y="read_events"),

        Widget("table", "open_findings", "Open advisor findings: evidence in plt_gold.fact_recommendation", width=6),
    ),
)

SECURITY = Persona(
    "security", "Security", "Audit events by type and severity, the principals behind them, and how security "
    "incidents were handled.",
    (
        Dataset("security_events", "Security events by day", GoldView(
            "v_security_events_daily", ("date_key", "workspace_id", "workspace_name", "category", "event_type",
                                        "severity", "events", "principals"), order_by="date_key DESC, events DESC")),
        Dataset("events_by_severity", "Events by day and severity", Metric(
            "security", ("event_date", "severity"), ("events", "failed_events"))),
        Dataset("top_principals", "Principals by severity-weighted events", Metric(
            "security", ("user_name",), ("events", "high_or_critical_events", "severity_weighted_events", "source_ips"))),
        Dataset("security_response", "Security incident response", Review(
            "response", _RESPONSE_COLUMNS, where="breakdown IN ('severity', 'week')")),
        Dataset("security_noise", "Security rules by noise", Review(
            "noise", _NOISE_COLUMNS, where="domain = 'security'", order_by="noise_rank")),
    ),
    (
        Widget("bar", "events_by_severity", "Events by severity", x="event_date", y="events", color="severity", width=6),
        Widget("table", "top_principals", "Principals"),
        Widget("table", "security_noise", "Security rules and detectors by alerts"),
        Widget("table", "security_events", "Security events", width=6),
        Widget("table", "security_response", "Response times (all domains) by severity and week", width=6),
    ),
)

SRE = Persona(
    "sre", "SRE", "Incident review (MTTA, MTTR, noise, false positives, cost impact) and reliability: failed "
    "runs, task latency regressions, SLOs.",
    (
        Dataset("response_all", "Incident response overall", Review("response", _RESPONSE_COLUMNS, where="breakdown = 'all'")),
        Dataset("response", "Incident response by domain, severity and week", Review(
            "response", _RESPONSE_COLUMNS, where="breakdown <> 'all'", order_by="breakdown, value")),
        Dataset("noise", "Noisiest rules and detectors", Review("noise", _NOISE_COLUMNS, order_by="noise_rank", limit=25)),
        Dataset("impact", "Incident cost impact", Review("impact", _IMPACT_COLUMNS, order_by="cost_impact DESC", limit=50)),
        Dataset("failed_runs", "Failed runs and their cost", GoldView(
            "v_failed_run_cost", ("workspace_id", "job_id", "job_name", "runs", "failed_runs", "failure_rate",
                                  "failed_list_cost", "failed_cost_rank"), order_by="failed_cost_rank", limit=25)),
        Dataset("latency_regressions", "Task latency regressions", GoldView(
            "v_task_latency_regression", ("date_key", "workspace_id", "job_id", "job_name", "task_key", "runs",
                                          "p95_seconds", "baseline_p95_seconds", "is_regression"),
            where="is_regression", order_by="date_key DESC")),
        Dataset("slo", "SLO attainment and MTTR per job and warehouse", Metric(
            "reliability", ("entity_type", "entity_id"), ("events", "failures", "slo_attainment", "mttr_hours"))),
    ),
    (
        Widget("counter", "response_all", "MTTA (s)", y="mtta_s", width=2),
        Widget("counter", "response_all", "MTTR (s)", y="mttr_s", width=2),
        Widget("counter", "response_all", "False-positive share", y="false_positive_share", width=2),
        Widget("table", "response", "MTTA and MTTR by domain, severity and ISO week", width=6),
        Widget("table", "noise", "Noisiest rules and detectors"),
        Widget("table", "impact", "Cost impact from the facts"),
        Widget("table", "failed_runs", "Failed runs"),
        Widget("table", "latency_regressions", "Task latency regressions"),
        Widget("table", "slo", "SLO attainment", width=6),
    ),
)

PERSONAS: tuple[Persona, ...] = (FINOPS, PLATFORM, SECURITY, SRE)
