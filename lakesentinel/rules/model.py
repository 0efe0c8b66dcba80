"""The rule file as a typed model: Sigma's shape plus what streaming detection needs.

A rule reads one system table (``logsource.table``), names selections of rows in ``detection`` and
combines them in ``detection.condition``. It is one of three kinds:

- **match**: every matching row is a signal (optionally one per ``group_by`` key per ``suppress_for``);
- **threshold**: aggregates over matching rows per ``group_by`` key in a sliding ``window``, compared
  in ``threshold`` (a SQL ``HAVING`` predicate such as ``count(*) > 1``);
- **sequence**: ordered ``sequence.steps`` by the same entity within ``sequence.within``.

Models round-trip through :meth:`Rule.from_dict` and :meth:`Rule.to_dict`; the JSON Schema in
``rules/rule.schema.json`` is generated from them (``lakesentinel rules schema``).

>>> r = Rule.from_dict({"id": "security.x", "title": "X", "level": "low",
...                     "logsource": {"table": "access.audit"},
...                     "detection": {"sel": {"action_name": "login"}, "condition": "sel"}})
>>> r.kind, r.severity, r.detection.selections()
('match', 'low', {'sel': {'action_name': 'login'}})
>>> Rule.from_dict(r.to_dict()) == r
True
>>> duration_seconds("90m")
5400
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lakesentinel.sources.system_tables import SYSTEM_TABLES

DURATION_PATTERN = r"^[1-9][0-9]*(s|m|h|d)$"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
IDENT_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
RULE_ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
LEVELS = ("informational", "low", "medium", "high", "critical")
LEVEL_TO_SEVERITY = {"informational": "info", "low": "low", "medium": "medium", "high": "high",
                     "critical": "critical"}
RUNNABLE_STATUSES = ("stable", "test", "experimental")
DEFAULT_TEST_START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)

Duration = Annotated[str, Field(pattern=DURATION_PATTERN, description="A duration: 30s, 15m, 1h, 2d.",
                                examples=["60m", "1d"])]
Scalar = Union[str, int, float, bool, None]
SelectionMap = dict[str, Union[Scalar, list[Scalar]]]
Selection = Annotated[
    Union[str, SelectionMap, list[SelectionMap]],
    Field(description="Rows to select: a map of `field|modifier: value(s)` (all must hold; a list of "
                      "values means any of them), a list of such maps (any of them), or a SQL boolean "
                      "expression over the source's columns."),
]


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as ``15m``."""
    m = re.match(DURATION_PATTERN, text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 1h, 2d)")
    return int(text[:-1]) * _UNITS[text[-1]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LogSource(_Strict):
    product: Literal["databricks"] = "databricks"
    table: Literal[tuple(SYSTEM_TABLES)] = Field(  # type: ignore[valid-type]
        description="The system table the rule reads, e.g. access.audit or billing.usage.")


class Detection(BaseModel):
    """Named selections plus a ``condition`` that combines them (``sel and not filter``, ``1 of sel*``)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Selection] = Field(init=False)  # type: ignore[assignment]

    condition: Union[str, list[str], None] = Field(
        None, description="Boolean combination of selection names: and, or, not, parentheses, "
                          "'1 of sel*', 'all of them'. A list means any of them. Not used by sequence rules.")

    def selections(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


class SequenceStep(_Strict):
    name: str = Field(pattern=IDENT_PATTERN)
    where: str = Field(description="Which rows are this step: selection names and/or a SQL boolean expression.")
    by: str = Field(description="Field or expression naming the entity in this step's rows (e.g. user, or "
                                "request_params.targetUserName for the user an admin changed).")
    threshold: str | None = Field(
        None, description="HAVING predicate over this step's rows after the previous step, e.g. count(*) >= 10; "
                          "default: at least one row.")


class Sequence(_Strict):
    within: Duration = Field(description="All steps must happen within this span of the first.")
    entity: str = Field("entity", pattern=IDENT_PATTERN,
                        description="Name of the shared entity (used in the fingerprint and summary).")
    steps: list[SequenceStep] = Field(min_length=2)


class Entity(_Strict):
    type: str = Field(description="Kind of entity the alert is about: user, ip, workspace, job, cluster, warehouse...")
    field: str = Field(description="The group_by field (or sequence entity) whose value identifies it.")


_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class MaintenanceWindow(_Strict):
    """Rows whose event time falls inside are ignored: weekly (weekdays, start, end) or once (from, until)."""

    name: str | None = None
    weekdays: list[Weekday] | None = None
    start: str | None = Field(None, pattern=_HHMM, description="Local time of day, HH:MM.")
    end: str | None = Field(None, pattern=_HHMM, description="Local time of day, HH:MM (may wrap past midnight).")
    timezone: str = Field("UTC", description="IANA time zone of start and end, e.g. Asia/Kolkata.")
    from_: datetime | None = Field(None, alias="from")
    until: datetime | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> "MaintenanceWindow":
        weekly = self.start is not None or self.end is not None
        once = self.from_ is not None or self.until is not None
        if weekly == once:
            raise ValueError("give either start and end (weekly) or from and until (once)")
        if weekly and (self.start is None or self.end is None):
            raise ValueError("a weekly window needs both start and end")
        if once and (self.from_ is None or self.until is None or self.until <= self.from_):
            raise ValueError("a one-off window needs from < until")
        return self


class InputRow(_Strict):
    """An input row with options; a plain mapping is the row itself."""

    row: dict[str, Any] = Field(default_factory=dict, description="Column values; unspecified columns are null.")
    at: str | None = Field(None, description="Event time as an offset from the case start (+5m) or an ISO time.")
    repeat: int = Field(1, ge=1, le=10_000, description="Copies of the row; {i} in strings becomes 0..repeat-1.")
    every: Duration | None = Field(None, description="Time between copies.")
    batch: int = Field(0, ge=0, description="Micro-batch the row arrives in (batches run in order).")


class RuleTest(_Strict):
    name: str
    start: datetime = Field(DEFAULT_TEST_START, description="Time of the first row (rows without a time get it).")
    input: list[Union[InputRow, dict[str, Any]]] = Field(default_factory=list)
    expect: list[dict[str, Any]] = Field(
        description="Alerts the input must produce, each a subset of the alert record (entity_id, observed, "
                    "workspace_id, window_start, labels...); an empty list means no alert.")


class Backtest(_Strict):
    ground_truth: list[str] = Field(
        default_factory=list,
        description="Simulator scenario types this rule is meant to find (for recall in `rules backtest`).")


class Rule(_Strict):
    id: str = Field(pattern=RULE_ID_PATTERN, description="Stable id, <domain>.<name>, e.g. security.repeated_failed_logins.")
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    status: Literal["stable", "test", "experimental", "deprecated", "unsupported"] = "experimental"
    level: Literal["informational", "low", "medium", "high", "critical"]
    version: int = Field(1, ge=1, description="Bump when the logic changes; alerts carry it with a content hash.")
    enabled: bool = True
    author: str | None = None
    date: str | None = None
    modified: str | None = None
    references: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="ATT&CK and other tags, e.g. attack.t1110.")
    logsource: LogSource
    detection: Detection
    fields: dict[str, str] = Field(
        default_factory=dict, description="Named SQL expressions over the row, usable anywhere a column is "
                                          "(selections, group_by, thresholds, summary).")
    time_field: str | None = Field(None, description="Column that orders rows in time (default: the table's).")
    group_by: list[str] = Field(default_factory=list, description="Fields (or aliases) whose values key the signal.")
    window: Duration | None = Field(None, description="Sliding window for threshold rules.")
    threshold: str | None = Field(
        None, description="HAVING predicate over aggregates of the window's rows: count(*), count(DISTINCT x), "
                          "sum(x), max(x), each with an optional FILTER (WHERE <selection>).")
    sequence: Sequence | None = None
    suppress_for: Duration | None = Field(None, description="After firing, stay quiet for this long per group.")
    lateness: Duration | None = Field(None, description="How late rows may arrive and still count (default per source).")
    allowlist: dict[str, list[Union[str, int]]] = Field(
        default_factory=dict,
        description="field -> values never to alert on: exact values, * wildcards, or CIDR ranges for IPs.")
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)
    entity: Entity | None = None
    summary: str | None = Field(None, description="One line with {field}, {observed} and {threshold} placeholders.")
    cost_impact: str | None = Field(None, description="Aggregate (e.g. sum(list_cost)) reported as the alert's cost impact.")
    runbook: str | None = Field(None, pattern=r"^https?://")
    labels: dict[str, str] = Field(default_factory=dict, description="Routing labels copied onto every alert.")
    falsepositives: list[str] = Field(default_factory=list)
    backtest: Backtest | None = None
    tests: list[RuleTest] = Field(default_factory=list)

    @model_validator(mode="after")
    def _kind_fields(self) -> "Rule":
        if self.sequence is not None:
            clash = [k for k in ("threshold", "window") if getattr(self, k) is not None] + (
                ["group_by"] if self.group_by else [])
            if clash:
                raise ValueError(f"a sequence rule takes its timing and entity from `sequence`; remove {', '.join(clash)}")
        else:
            if self.detection.condition is None:
                raise ValueError("detection.condition is required (except in sequence rules)")
            if (self.threshold is None) != (self.window is None):
                raise ValueError("threshold and window go together: a threshold rule needs both")
        return self

    # ---- derived -----------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        if self.sequence is not None:
            return "sequence"
        return "threshold" if self.threshold is not None else "match"

    @property
    def domain(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def severity(self) -> str:
        return LEVEL_TO_SEVERITY[self.level]

    @property
    def runnable(self) -> bool:
        return self.enabled and self.status in RUNNABLE_STATUSES

    def span_seconds(self) -> int:
        """The longest time the rule looks back (window or sequence span); 0 for match rules."""
        if self.sequence is not None:
            return duration_seconds(self.sequence.within)
        return duration_seconds(self.window) if self.window else 0

    # ---- round trip --------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Rule":
        return cls.model_validate(data)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)

    def logic_dict(self) -> dict[str, Any]:
        """What decides firing (tests and prose left out), for the version hash."""
        data = self.to_dict()
        for key in ("tests", "description", "falsepositives", "references", "author", "date", "modified",
                    "backtest"):
            data.pop(key, None)
        return data


def json_schema() -> dict[str, Any]:
    """JSON Schema of one rule document, for editors and for validating files before the model."""
    schema = Rule.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://lakesentinel.dev/schemas/rule.schema.json"
    schema["title"] = "lakesentinel rule"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
