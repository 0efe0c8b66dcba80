"""Detector specs: YAML files under ``paths.detectors``, loaded into typed, checked models.

A file holds one spec (a mapping) or several (``detectors: [...]``). Loading checks everything before
anything runs: the shape (against :func:`json_schema`, the schema editors can use), then the meaning:
the source table, dimensions, measures and aggregates exist; the model type exists and its params fit
its constructor; title templates name known fields. Every problem is collected and reported at once,
each with file, line, detector id and key.

>>> spec = parse_spec('''
... id: demo.cost
... domain: cost
... metric:
...   source: billing.usage
...   entity: [workspace_id, sku_name]
...   entity_type: sku
...   window: {size: 1h}
...   features: [{name: cost, measure: list_cost, agg: sum}]
... model: {type: robust_quantile, params: {transform: log1p}}
... alert:
...   severity: {medium: 0.8, high: 0.95}
...   title: "{sku_name} cost {observed:.2f} USD"
... ''')
>>> spec.metric.window.size_seconds, spec.empty, spec.alert.lowest_threshold
(3600, 'zero', 0.8)
"""

from __future__ import annotations

import difflib
import re
import string
import typing
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from lakesentinel.alerts.record import DOMAINS, SEVERITIES
from lakesentinel.issues import FileIssuesError, Issue, at, dotted
from lakesentinel.yamlpos import Document, YamlSyntaxError, load_documents, read_text

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|second|seconds|m|min|minute|minutes|h|hour|hours|d|day|days)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
AGGREGATES = ("sum", "count", "mean", "min", "max", "p50", "p90", "p95", "p99", "count_distinct")
ADDITIVE = ("sum", "count", "count_distinct")  # aggregates for which an empty window is a zero
ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"


def duration_seconds(text: str) -> int:
    """``'15m'``, ``'1 hour'``, ``'6h'``, ``'14d'`` in seconds.

    >>> duration_seconds("15m"), duration_seconds("6 hours"), duration_seconds("14d")
    (900, 21600, 1209600)
    """
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 1h, 14d)")
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)[0]]


def spark_interval(seconds: int) -> str:
    return f"{seconds} seconds"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Duration = typing.Annotated[str, Field(pattern=_DURATION.pattern)]


class WindowSpec(_Strict):
    size: Duration = Field(description="Tumbling window, e.g. 15m or 1h.")
    lateness: Duration | None = Field(None, description="How late rows may land and still count (watermark delay); "
                                                         "default per source table.")
    empty: Literal["zero", "skip"] | None = Field(
        None, description="A window without rows: zero (sums and counts) or skip (no observation). "
                          "Default: zero when every feature is a sum or count.")

    @property
    def size_seconds(self) -> int:
        return duration_seconds(self.size)


class FeatureSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    measure: str
    agg: Literal[AGGREGATES]  # type: ignore[valid-type]


class MetricSpec(_Strict):
    source: str = Field(description="System table, e.g. billing.usage.")
    entity: list[str] = Field(min_length=1, description="Dimensions that key one entity (one state each).")
    entity_type: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="What an entity is: cluster, warehouse, user...")
    where: dict[str, list[str | None]] = Field(default_factory=dict, description="Keep rows whose dimension is in the list (null: missing).")
    exclude: dict[str, list[str | None]] = Field(default_factory=dict, description="Drop rows whose dimension is in the list.")
    window: WindowSpec
    features: list[FeatureSpec] = Field(min_length=1, description="The first feature is the alert's observed value.")
    min_rows: int = Field(1, ge=1, description="Windows with fewer rows are neither scored nor learned "
                                               "(too few to say anything); needs empty: skip.")


class ModelSpec(_Strict):
    type: str
    params: dict[str, Any] = Field(default_factory=dict)


class WarmupSpec(_Strict):
    windows: int = Field(48, ge=0, description="Windows an entity learns before it is warm.")
    max_severity: Literal[SEVERITIES] = Field("info", description="Highest severity of an alert while cold.")  # type: ignore[valid-type]
    idle_before: bool = Field(
        False, description="An entity first seen while the stream is already running was idle until then: its "
                           "model first learns `windows` empty windows (zeros), so that its first spend is judged "
                           "against nothing rather than not judged. It stays cold until it has learned `windows` "
                           "of its own. Needs empty: zero.")


class AlertSpec(_Strict):
    severity: dict[Literal[SEVERITIES], float] = Field(  # type: ignore[valid-type]
        min_length=1, description="Score at or above which a window alerts at that severity.")
    for_windows: int = Field(1, ge=1, description="Consecutive windows at or above the lowest threshold before alerting.")
    protect: bool = Field(True, description="Do not learn from windows that alert (keeps the baseline clean).")
    protect_windows: int = Field(24, ge=0, description="At most this many alerting windows are held back between two "
                                                       "that are learned, so that a new normal is learned in time.")
    title: str
    summary: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    runbook_url: str | None = None

    @field_validator("severity")
    @classmethod
    def _increasing(cls, value: dict[str, float]) -> dict[str, float]:
        levels = sorted(value, key=SEVERITIES.index)
        scores = [value[s] for s in levels]
        if any(not 0.0 < s <= 1.0 for s in scores):
            raise ValueError("severity thresholds must be scores in (0, 1]")
        if scores != sorted(scores) or len(set(scores)) != len(scores):
            raise ValueError("severity thresholds must increase with severity")
        return value

    @property
    def lowest_threshold(self) -> float:
        return min(self.severity.values())

    def severity_for(self, score: float) -> str | None:
        best = None
        for level in SEVERITIES:
            if level in self.severity and score >= self.severity[level]:
                best = level
        return best


class EvaluationSpec(_Strict):
    scenarios: list[str] = Field(default_factory=list, description="Simulator scenario types this detector is for.")


class DetectorSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    version: int = Field(1, ge=1)
    enabled: bool = True
    domain: Literal[DOMAINS]  # type: ignore[valid-type]
    description: str = ""
    owner: str | None = None
    metric: MetricSpec
    model: ModelSpec
    warmup: WarmupSpec = Field(default_factory=WarmupSpec)
    alert: AlertSpec
    state_ttl: Duration = Field("14d", description="Entity state is dropped after this long without rows.")
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    file: str = Field("", exclude=True, description="Where the spec was read from (set by the loader).")

    @cached_property
    def source(self):
        from lakesentinel.detectors.metrics import SOURCES

        return SOURCES[self.metric.source]

    @property
    def lateness_seconds(self) -> int:
        return duration_seconds(self.metric.window.lateness or self.source.lateness)

    @property
    def empty(self) -> str:
        if self.metric.window.empty:
            return self.metric.window.empty
        return "zero" if all(f.agg in ADDITIVE for f in self.metric.features) else "skip"

    def build_detector(self):
        """A fresh detector for one entity."""
        from lakesentinel.detectors import DETECTORS

        return DETECTORS[self.model.type](**self.model.params)

    def to_dict(self) -> dict:
        return self.model_dump(mode="json", exclude_defaults=False)


# ---- errors ------------------------------------------------------------------------------------------
class DetectorSpecError(FileIssuesError):
    """One or more detector specs are wrong; ``issues`` lists each with file, line, detector and key."""

    what = "detector specs"


def _issue(doc: Document | None, path: tuple, detector: str | None, shown: tuple, message: str,
           code: str = "spec", file: str = "") -> Issue:
    return at(doc, path, code, message, file=file, id=detector, key=True, shown=shown)


# ---- schema ------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def json_schema() -> dict:
    """JSON Schema of one spec (what ``rules/detectors/detector.schema.json`` publishes for editors)."""
    schema = DetectorSpec.model_json_schema(mode="validation")
    schema["properties"].pop("file", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "lakesentinel detector spec"
    return schema


# ---- YAML with positions ----------------------------------------------------------------------------
def _documents(text: str, file: str) -> tuple[list[tuple[Any, Document, tuple]], list[Issue]]:
    """The spec mappings of a file, each with its document and its path prefix inside the file."""
    try:
        docs = load_documents(text, file)
    except YamlSyntaxError as exc:
        return [], [Issue("error", "yaml", str(exc), file, exc.position.line, exc.position.column)]
    if not docs:
        return [], [Issue("error", "empty", "empty file", file, 1, 1)]
    issues: list[Issue] = []
    out = []
    for doc in docs:
        data = doc.value
        if isinstance(data, dict) and "detectors" in data and "id" not in data:
            extra = sorted(set(data) - {"detectors"})
            if extra:
                issues.append(_issue(doc, (extra[0],), None, (extra[0],), "a pack holds only 'detectors: [...]'"))
            items = data["detectors"]
            if not isinstance(items, list):
                issues.append(_issue(doc, ("detectors",), None, ("detectors",), "expected a list of specs"))
                continue
            out += [(item, doc, ("detectors", i)) for i, item in enumerate(items)]
        else:
            out.append((data, doc, ()))
    return out, issues


_PATTERN_HELP = {
    _DURATION.pattern: "not a duration: {value!r} (use e.g. 30s, 15m, 1h, 14d)",
    ID_PATTERN: "not a detector id: {value!r} (lowercase words joined by dots and underscores, e.g. cost.sku_hourly_cost)",
    r"^[a-z][a-z0-9_]*$": "not a name: {value!r} (lowercase letters, digits and underscores)",
}


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _schema_issues(data: Any, doc: Document, prefix: tuple, detector: str | None) -> list[Issue]:
    validator = jsonschema.Draft202012Validator(json_schema())
    issues = []
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = tuple(err.absolute_path)
        message = err.message
        if err.validator in ("anyOf", "oneOf") and err.context:
            # "x or null": the non-null branch says what was wrong.
            specific = [e for e in err.context if e.validator != "type"] or list(err.context)
            err = specific[0]
            message = err.message
        if err.validator == "pattern" and err.validator_value in _PATTERN_HELP:
            message = _PATTERN_HELP[err.validator_value].format(value=err.instance)
        if err.validator == "additionalProperties":
            unknown = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            allowed = ", ".join(sorted(err.schema.get("properties", {})))
            if unknown:
                path = path + (unknown[0],)
                hint = _suggest(unknown[0], err.schema.get("properties", {}))
                message = (f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}{hint}; "
                           f"allowed: {allowed}")
        issues.append(_issue(doc, prefix + path, detector, path, message, "schema"))
    return issues


# ---- meaning -----------------------------------------------------------------------------------------
def _params_model(cls) -> type[BaseModel]:
    hints = typing.get_type_hints(cls.__init__)
    import inspect

    fields = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        default = p.default if p.default is not inspect.Parameter.empty else ...
        fields[name] = (hints.get(name, Any), default)
    return create_model(f"{cls.__name__}Params", __config__=ConfigDict(extra="forbid", strict=False), **fields)


def _meaning_issues(spec: DetectorSpec, doc: Document, prefix: tuple) -> list[Issue]:
    from lakesentinel.detectors import DETECTORS
    from lakesentinel.detectors.metrics import SOURCES
    from lakesentinel.simulator.scenarios import SCENARIOS

    issues: list[Issue] = []

    def add(path: tuple, message: str) -> None:
        issues.append(_issue(doc, prefix + path, spec.id, path, message, "meaning"))

    m = spec.metric
    source = SOURCES.get(m.source)
    if source is None:
        add(("metric", "source"), f"unknown source {m.source!r}; detectors read: {', '.join(SOURCES)}")
    else:
        dims = ", ".join(source.dimensions) + "".join(f", {p}.<key>" for p in source.dynamic_dimensions)
        for i, name in enumerate(m.entity):
            if source.dimension(name) is None:
                add(("metric", "entity", i),
                    f"unknown dimension {name!r} of {m.source}{_suggest(name, source.dimensions)}; one of: {dims}")
        if len(set(m.entity)) != len(m.entity):
            add(("metric", "entity"), "a dimension is listed twice")
        for part in ("where", "exclude"):
            for name in getattr(m, part):
                if source.dimension(name) is None:
                    add(("metric", part, name),
                        f"unknown dimension {name!r} of {m.source}{_suggest(name, source.dimensions)}; one of: {dims}")
        names = set()
        for i, f in enumerate(m.features):
            if f.name in names:
                add(("metric", "features", i, "name"), f"feature {f.name!r} is listed twice")
            names.add(f.name)
            measure = source.measures.get(f.measure)
            if measure is None:
                add(("metric", "features", i, "measure"),
                    f"unknown measure {f.measure!r} of {m.source}{_suggest(f.measure, source.measures)}; "
                    f"one of: {', '.join(source.measures)}")
            elif (measure.kind == "key") != (f.agg == "count_distinct"):
                add(("metric", "features", i, "agg"),
                    f"measure {f.measure!r} takes {'count_distinct' if measure.kind == 'key' else 'a numeric aggregate'}, "
                    f"not {f.agg!r}")
        if spec.warmup.idle_before and spec.empty != "zero":
            add(("warmup", "idle_before"), "idle_before needs empty: zero (an idle window must be a zero)")
        if m.min_rows > 1 and spec.empty == "zero":
            add(("metric", "min_rows"), "min_rows needs empty: skip (an empty window cannot be a zero and too few)")
        if m.window.empty == "zero" and any(f.agg not in ADDITIVE for f in m.features):
            add(("metric", "window", "empty"), "an empty window is a zero only when every feature is a sum or count")
        try:
            if m.window.size_seconds <= 0:
                add(("metric", "window", "size"), "window size must be positive")
        except ValueError as exc:
            add(("metric", "window", "size"), str(exc))

    cls = DETECTORS.get(spec.model.type)
    if cls is None:
        add(("model", "type"),
            f"unknown model type {spec.model.type!r}{_suggest(spec.model.type, DETECTORS)}; one of: {', '.join(DETECTORS)}")
    else:
        try:
            _params_model(cls)(**spec.model.params)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                msg = err["msg"]
                if err["type"] == "extra_forbidden":
                    msg = (f"unknown parameter of {spec.model.type}{_suggest(str(loc[0]), cls._param_names())}; "
                           f"its parameters: {', '.join(cls._param_names())}")
                add(("model", "params") + loc, msg)
        else:
            try:
                spec.build_detector()
            except Exception as exc:  # a constructor's own check
                add(("model", "params"), f"{spec.model.type} refused these params: {exc}")
        if cls.univariate and len(m.features) != 1:
            add(("metric", "features"), f"model {spec.model.type} reads exactly one feature, got {len(m.features)}")
        if spec.model.type == "forecast_residual" and spec.model.params.get("season_length", 24) and spec.empty == "skip":
            add(("metric", "window", "empty"), "a seasonal forecast needs a regular series: use sum or count "
                                               "features, or set empty: zero")

    known = {"observed", "expected", "score", "severity", "window_start", "window_end", "workspace_id", "entity_id",
             "entity_type", "detector", *m.entity, *(f.name for f in m.features)}
    known |= {n.replace(".", "_") for n in m.entity}
    for part in ("title", "summary"):
        text = getattr(spec.alert, part)
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            add(("alert", part), f"not a valid template: {exc}")
            continue
        for name in fields:
            base = re.split(r"[.\[]", name, maxsplit=1)[0]
            if base not in known:
                add(("alert", part),
                    f"unknown field {{{name}}}{_suggest(base, known)}; templates may use: {', '.join(sorted(known))}")
    for i, scenario in enumerate(spec.evaluation.scenarios):
        if scenario not in SCENARIOS:
            add(("evaluation", "scenarios", i),
                f"unknown scenario type {scenario!r}{_suggest(scenario, SCENARIOS)}; one of: {', '.join(SCENARIOS)}")
    try:
        duration_seconds(spec.state_ttl)
    except ValueError as exc:
        add(("state_ttl",), str(exc))
    return issues


# ---- loading -----------------------------------------------------------------------------------------
def _parse(text: str, file: str) -> tuple[list[DetectorSpec], list[Issue]]:
    docs, issues = _documents(text, file)
    specs = []
    for data, doc, prefix in docs:
        detector = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
        if not isinstance(data, dict):
            issues.append(_issue(doc, prefix, detector, prefix, "expected a mapping (one spec)"))
            continue
        found = _schema_issues(data, doc, prefix, detector)
        try:
            spec = DetectorSpec(**data, file=file)
        except ValidationError as exc:
            # The schema says most of it; pydantic adds what a schema cannot (thresholds in order).
            seen = {i.key for i in found}
            for err in exc.errors():
                path = tuple(err["loc"])
                if dotted(path) not in seen and not any(dotted(path).startswith(k + ".") for k in seen):
                    message = err["msg"].removeprefix("Value error, ")
                    found.append(_issue(doc, prefix + path, detector, path, message, "schema"))
            issues += sorted(found, key=lambda i: i.line)
            continue
        if found:
            issues += sorted(found, key=lambda i: i.line)
            continue
        meaning = sorted(_meaning_issues(spec, doc, prefix), key=lambda i: i.line)
        issues += meaning
        if not meaning:
            specs.append(spec)
    return specs, issues


def parse_spec(text: str, file: str = "<string>") -> DetectorSpec:
    """One spec from YAML text; raises :class:`DetectorSpecError` listing every problem."""
    specs, issues = _parse(text, file)
    if issues:
        raise DetectorSpecError(issues)
    if len(specs) != 1:
        raise DetectorSpecError([Issue("error", "spec", f"expected one spec, found {len(specs)}", file)])
    return specs[0]


def load_specs(directory: Path | str, include_disabled: bool = False) -> list[DetectorSpec]:
    """Every spec in ``directory`` (``*.yaml``/``*.yml``, recursively), sorted by id.

    Raises :class:`DetectorSpecError` with every problem in every file, including ids used twice.
    """
    root = Path(directory)
    if not root.is_dir():
        raise DetectorSpecError([Issue("error", "missing", "no such directory of detector specs", str(root))])
    specs: list[DetectorSpec] = []
    issues: list[Issue] = []
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()):
        found, problems = _parse(read_text(path), str(path))
        specs += found
        issues += problems
    first: dict[str, DetectorSpec] = {}
    for spec in specs:
        if spec.id in first:
            issues.append(Issue("error", "duplicate-id", f"id already used in {first[spec.id].file}", spec.file, id=spec.id, key="id"))
        first.setdefault(spec.id, spec)
    if issues:
        raise DetectorSpecError(issues)
    return sorted((s for s in specs if include_disabled or s.enabled), key=lambda s: s.id)


def find_spec(specs: list[DetectorSpec], detector_id: str) -> DetectorSpec:
    for spec in specs:
        if spec.id == detector_id:
            return spec
    raise DetectorSpecError([Issue("error", "unknown-id",
                                   f"no such detector; configured: {', '.join(s.id for s in specs) or 'none'}", "",
                                   id=detector_id)])
