"""The tool catalog: typed inputs and outputs (pydantic, so JSON Schema in and out) over gold's facts
and ``fact_incident``, the knowledge index, and the write actions.

Every read puts the caller's scope in its WHERE clause; arguments are validated before any SQL is
written (ids match a strict pattern, numbers are bounded), so a model's arguments cannot widen a query.
Write tools (``actions.py``, listed in ``catalog.py``) are marked ``write`` and run only through :func:`lakesentinel.copilot.guard.run_tool`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal, Protocol

from pydantic import BaseModel, Field

from lakesentinel.copilot.scope import Scope
from lakesentinel.errors import LakeSentinelError

ID = r"^[A-Za-z0-9_.-]{1,64}$"
Domain = Literal["cost", "security", "query", "reliability"]


class ToolError(LakeSentinelError):
    """A tool that could not answer: the message names the tool and why."""


class Rows(Protocol):
    """What tools read through: the app's query layer (local Spark or a SQL warehouse)."""

    tables: Any

    def rows(self, name: str, sql: str) -> list[dict]: ...


@dataclass
class ToolEnv:
    """What tools are handed by the composition root."""

    layer: Rows
    now: Callable[[], datetime]
    user: str
    receivers: dict[str, Any] = field(default_factory=dict)  # "<receiver>/<type>" -> built receiver
    knowledge: Any = None  # lakesentinel.copilot.knowledge.Knowledge


# ---- inputs and outputs --------------------------------------------------------------------------
class Days(BaseModel):
    days: int = Field(7, ge=1, le=90, description="days back from the newest day in gold")
    workspace_id: str | None = Field(None, pattern=ID, description="one workspace (default: every one in scope)")


class CostRow(BaseModel):
    key: str
    list_cost: float


class CostOut(BaseModel):
    from_date_key: int | None
    to_date_key: int | None
    total_list_cost: float
    rows: list[CostRow]


class MoversIn(BaseModel):
    by: Literal["workspace", "sku"] = "workspace"
    date_key: int | None = Field(None, ge=19000101, le=99991231, description="YYYYMMDD (default: newest day)")
    limit: int = Field(5, ge=1, le=50)
    workspace_id: str | None = Field(None, pattern=ID, description="one workspace (default: every one in scope)")


class Mover(BaseModel):
    key: str
    list_cost: float
    previous_list_cost: float
    change: float


class MoversOut(BaseModel):
    date_key: int | None
    previous_date_key: int | None
    movers: list[Mover]


class IncidentsIn(BaseModel):
    status: Literal["active", "all"] = "active"
    domain: Domain | None = None
    workspace_id: str | None = Field(None, pattern=ID)
    limit: int = Field(20, ge=1, le=200)


class IncidentRow(BaseModel):
    incident_id: str
    status: str
    domain: str
    severity: str
    title: str
    workspace_id: str | None
    rule_id: str
    runbook_url: str | None = None


class IncidentsOut(BaseModel):
    count: int
    by_domain: dict[str, int]
    incidents: list[IncidentRow]


class JobIn(BaseModel):
    job_id: str = Field(..., pattern=ID)
    days: int = Field(7, ge=1, le=90)


class RunRow(BaseModel):
    run_id: str
    date_key: int
    result_state: str | None
    duration_seconds: int | None


class JobOut(BaseModel):
    job_id: str
    job_name: str | None
    runs: int
    failed_runs: int
    failure_rate: float | None
    recent_runs: list[RunRow]


class TopIn(BaseModel):
    days: int = Field(7, ge=1, le=90)
    limit: int = Field(5, ge=1, le=50)
    workspace_id: str | None = Field(None, pattern=ID, description="one workspace (default: every one in scope)")


class FailingJob(BaseModel):
    job_id: str
    job_name: str | None
    workspace_id: str
    runs: int
    failed_runs: int
    failure_rate: float


class FailingOut(BaseModel):
    jobs: list[FailingJob]


class QueryRow(BaseModel):
    statement_id: str
    workspace_id: str
    warehouse_id: str | None
    executed_by: str | None
    total_duration_ms: int | None
    read_bytes: int | None


class QueriesOut(BaseModel):
    queries: list[QueryRow]


class SecurityRow(BaseModel):
    event_type: str
    category: str
    severity: str
    events: int
    failures: int
    principals: int


class SecurityOut(BaseModel):
    events: list[SecurityRow]


class LookupIn(BaseModel):
    query: str = Field(..., min_length=2, max_length=300)
    limit: int = Field(3, ge=1, le=10)


class Passage(BaseModel):
    source: str
    title: str
    text: str
    runbook_url: str | None = None


class LookupOut(BaseModel):
    method: str
    passages: list[Passage]


class SilenceIn(BaseModel):
    incident_id: str = Field(..., pattern=ID)
    duration: str = Field("2h", pattern=r"^\d{1,4}[smhd]$")
    comment: str = Field(..., min_length=3, max_length=500)


class SilenceOut(BaseModel):
    silence_id: str
    matchers: list[str]
    ends_at: datetime


class JiraIn(BaseModel):
    incident_id: str = Field(..., pattern=ID)


class JiraOut(BaseModel):
    integration: str
    key: str | None
    status: str


# ---- the read tools ------------------------------------------------------------------------------
def _window(scope: Scope, table: str, days: int) -> str:
    """A CTE ``w(lo, hi)``: the last ``days`` days up to the newest day of ``table`` in scope."""
    return (f"WITH w AS (SELECT CAST(date_format(date_sub(to_date(CAST(max(date_key) AS STRING), 'yyyyMMdd'), "
            f"{days - 1}), 'yyyyMMdd') AS INT) AS lo, max(date_key) AS hi "
            f"FROM {{gold}}.{table} WHERE {scope.predicate()}) ")


def cost_by(key: str) -> Callable[[ToolEnv, Scope, Days], CostOut]:
    def run(env: ToolEnv, scope: Scope, args: Days) -> CostOut:
        scope = scope.narrow(args.workspace_id)
        rows = env.layer.rows(f"cost by {key}", _window(scope, "fact_cost_daily", args.days) + f"""
            SELECT c.{key} AS key, w.lo, w.hi, CAST(sum(c.list_cost) AS DOUBLE) AS list_cost
            FROM {{gold}}.fact_cost_daily c CROSS JOIN w
            WHERE {scope.predicate("c.workspace_id")} AND c.date_key BETWEEN w.lo AND w.hi AND c.list_cost IS NOT NULL
            GROUP BY c.{key}, w.lo, w.hi ORDER BY list_cost DESC, key""")
        out = [CostRow(key=str(r["key"]), list_cost=round(r["list_cost"] or 0.0, 2)) for r in rows]
        return CostOut(from_date_key=rows[0]["lo"] if rows else None, to_date_key=rows[0]["hi"] if rows else None,
                       total_list_cost=round(sum(r.list_cost for r in out), 2), rows=out)
    return run


def cost_top_movers(env: ToolEnv, scope: Scope, args: MoversIn) -> MoversOut:
    scope = scope.narrow(args.workspace_id)
    key = "workspace_id" if args.by == "workspace" else "sku_name"
    day = str(args.date_key) if args.date_key else "max(date_key)"
    rows = env.layer.rows("cost movers", f"""
        WITH d AS (SELECT {day} AS hi FROM {{gold}}.fact_cost_daily WHERE {scope.predicate()}),
             p AS (SELECT max(c.date_key) AS lo FROM {{gold}}.fact_cost_daily c CROSS JOIN d
                   WHERE {scope.predicate("c.workspace_id")} AND c.date_key < d.hi)
        SELECT c.{key} AS key, d.hi, p.lo,
               CAST(sum(CASE WHEN c.date_key = d.hi THEN c.list_cost ELSE 0 END) AS DOUBLE) AS cur,
               CAST(sum(CASE WHEN c.date_key = p.lo THEN c.list_cost ELSE 0 END) AS DOUBLE) AS prev
        FROM {{gold}}.fact_cost_daily c CROSS JOIN d CROSS JOIN p
        WHERE {scope.predicate("c.workspace_id")} AND (c.date_key = d.hi OR c.date_key = p.lo) AND c.list_cost IS NOT NULL
        GROUP BY c.{key}, d.hi, p.lo""")
    if not rows:
        return MoversOut(date_key=args.date_key, previous_date_key=None, movers=[])
    movers = [Mover(key=str(r["key"]), list_cost=round(r["cur"], 2), previous_list_cost=round(r["prev"], 2),
                    change=round(r["cur"] - r["prev"], 2)) for r in rows]
    movers.sort(key=lambda m: (-abs(m.change), m.key))
    return MoversOut(date_key=rows[0]["hi"], previous_date_key=rows[0]["lo"], movers=movers[:args.limit])


def incidents(env: ToolEnv, scope: Scope, args: IncidentsIn) -> IncidentsOut:
    scope = scope.narrow(args.workspace_id)
    where = [scope.predicate()]
    if args.status == "active":
        where.append("status IN ('open', 'acknowledged', 'silenced')")
    if args.domain:
        where.append(f"domain = '{args.domain}'")
    rows = env.layer.rows("incidents", f"""
        SELECT incident_id, status, domain, severity, title, workspace_id, rule_id, runbook_url
        FROM {{gold}}.fact_incident WHERE {' AND '.join(where)}
        ORDER BY opened_at DESC, incident_id""")
    by_domain: dict[str, int] = {}
    for r in rows:
        by_domain[r["domain"]] = by_domain.get(r["domain"], 0) + 1
    return IncidentsOut(count=len(rows), by_domain=dict(sorted(by_domain.items())),
                        incidents=[IncidentRow(**r) for r in rows[:args.limit]])


def job_runs(env: ToolEnv, scope: Scope, args: JobIn) -> JobOut:
    rows = env.layer.rows("job runs", _window(scope, "fact_job_run", args.days) + f"""
        SELECT r.run_id, r.date_key, r.result_state, r.duration_seconds, r.is_failed, j.job_name
        FROM {{gold}}.fact_job_run r CROSS JOIN w LEFT JOIN {{gold}}.dim_job j ON r.job_key = j.job_key
        WHERE {scope.predicate("r.workspace_id")} AND r.job_id = '{args.job_id}' AND r.date_key BETWEEN w.lo AND w.hi
        ORDER BY r.start_time DESC, r.run_id""")
    if not rows:
        raise ToolError(f"job_runs: no runs of job {args.job_id} in the last {args.days} days in your scope")
    failed = sum(1 for r in rows if r["is_failed"])
    return JobOut(job_id=args.job_id, job_name=next((r["job_name"] for r in rows if r["job_name"]), None),
                  runs=len(rows), failed_runs=failed, failure_rate=round(failed / len(rows), 3),
                  recent_runs=[RunRow(run_id=r["run_id"], date_key=r["date_key"], result_state=r["result_state"],
                                      duration_seconds=r["duration_seconds"]) for r in rows[:10]])


def failing_jobs(env: ToolEnv, scope: Scope, args: TopIn) -> FailingOut:
    scope = scope.narrow(args.workspace_id)
    rows = env.layer.rows("failing jobs", _window(scope, "fact_job_run", args.days) + f"""
        SELECT r.job_id, first(j.job_name, true) AS job_name, r.workspace_id, count(*) AS runs,
               CAST(sum(CASE WHEN r.is_failed THEN 1 ELSE 0 END) AS BIGINT) AS failed_runs
        FROM {{gold}}.fact_job_run r CROSS JOIN w LEFT JOIN {{gold}}.dim_job j ON r.job_key = j.job_key
        WHERE {scope.predicate("r.workspace_id")} AND r.date_key BETWEEN w.lo AND w.hi AND r.job_id IS NOT NULL
        GROUP BY r.job_id, r.workspace_id HAVING sum(CASE WHEN r.is_failed THEN 1 ELSE 0 END) > 0""")
    jobs = [FailingJob(**r, failure_rate=round(r["failed_runs"] / r["runs"], 3)) for r in rows]
    jobs.sort(key=lambda j: (-j.failure_rate, -j.failed_runs, j.job_id))
    return FailingOut(jobs=jobs[:args.limit])


def slowest_queries(env: ToolEnv, scope: Scope, args: TopIn) -> QueriesOut:
    scope = scope.narrow(args.workspace_id)
    rows = env.layer.rows("slowest queries", _window(scope, "fact_query_execution", args.days) + f"""
        SELECT q.statement_id, q.workspace_id, q.warehouse_id, q.executed_by, q.total_duration_ms, q.read_bytes
        FROM {{gold}}.fact_query_execution q CROSS JOIN w
        WHERE {scope.predicate("q.workspace_id")} AND q.date_key BETWEEN w.lo AND w.hi AND q.total_duration_ms IS NOT NULL
        ORDER BY q.total_duration_ms DESC, q.statement_id LIMIT {args.limit}""")
    return QueriesOut(queries=[QueryRow(**r) for r in rows])


def security_events(env: ToolEnv, scope: Scope, args: TopIn) -> SecurityOut:
    scope = scope.narrow(args.workspace_id)
    rows = env.layer.rows("security events", _window(scope, "fact_security_event", args.days) + f"""
        SELECT s.event_type, s.category, s.severity, max(s.severity_rank) AS rank, count(*) AS events,
               CAST(sum(CASE WHEN s.is_failure THEN 1 ELSE 0 END) AS BIGINT) AS failures,
               count(DISTINCT s.user_name) AS principals
        FROM {{gold}}.fact_security_event s CROSS JOIN w
        WHERE {scope.predicate("s.workspace_id")} AND s.date_key BETWEEN w.lo AND w.hi
        GROUP BY s.event_type, s.category, s.severity ORDER BY rank DESC, events DESC, s.event_type LIMIT {args.limit}""")
    return SecurityOut(events=[SecurityRow(**{k: v for k, v in r.items() if k != "rank"}) for r in rows])


def runbook_lookup(env: ToolEnv, scope: Scope, args: LookupIn) -> LookupOut:
    if env.knowledge is None:
        raise ToolError("runbook_lookup: no knowledge index was built")
    return LookupOut(method=env.knowledge.method, passages=env.knowledge.search(args.query, args.limit))


# ---- the catalog ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    input: type[BaseModel]
    output: type[BaseModel]
    run: Callable[[ToolEnv, Scope, Any], BaseModel]
    write: bool = False

    def spec(self) -> dict:
        """The OpenAI ``tools`` entry: name, description, JSON Schema of the arguments."""
        return {"type": "function", "function": {
            "name": self.name, "description": self.description + (" (WRITE: needs the user's approval)" if self.write else ""),
            "parameters": self.input.model_json_schema()}}
