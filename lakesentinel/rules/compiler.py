"""Compilation of one rule, in fixed stages: map the source's fields, check every expression, then
assemble what the engine evaluates.

1. **map**: the source's aliases (``user``, ``ip``...) are checked once against its schema;
2. **check**: selections, the condition, group keys, thresholds, sequence steps, allow-lists,
   maintenance windows, summary placeholders: each problem becomes an :class:`Issue` with the file,
   line and column of the YAML node (and of the offending character inside an expression);
3. **assemble**: a :class:`CompiledRule` with one row *series* per thing the engine counts (a flag
   expression, an optional value), the group-key expressions, the time and evidence-key expressions,
   window geometry and the rule version that goes into every alert.

Nothing here needs Spark; :mod:`lakesentinel.rules.matchframe` turns the checked SQL into Columns.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from pyspark.sql import types as T
from sqlglot import exp

from lakesentinel.rules import detection as det
from lakesentinel.rules.aggregates import DEFAULT_STEP, Aggregate, Having, compile_having
from lakesentinel.rules.expressions import (
    BOOL, Checked, ExpressionProblems, Scope, check, cidr_sql, parse,
)
from lakesentinel.rules.issues import Issue
from lakesentinel.rules.logsources import LOGSOURCES, LogSourceInfo
from lakesentinel.rules.model import Rule, duration_seconds
from lakesentinel.rules.patterns import like_problems
from lakesentinel.yamlpos import Document

if TYPE_CHECKING:
    from pyspark.sql import Column

METRIC_PLACEHOLDERS = ("observed", "threshold", "window", "first_seen", "last_seen", "rule", "title")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_WEEKDAYS = {"sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7}  # Spark's dayofweek


@dataclass
class Series:
    """Rows the engine keeps per group and time bucket: those where ``flag`` holds."""

    index: int
    part: int  # 0 for match and threshold rules; the step number in sequences
    flag: Checked
    value: Checked | None = None  # summed / maxed (double) or counted distinct (text)
    distinct: bool = False


@dataclass
class AggregateUse:
    """How one aggregate of a threshold is computed from series."""

    kind: str
    series: list[int]


@dataclass
class CompiledRule:
    rule: Rule
    file: str
    source: LogSourceInfo
    version: str
    signature: str  # changes when the shape of the rule's state changes (then its state restarts)
    group_names: list[str]
    group_exprs: list[list[Checked]]  # per part: expressions giving the group key (as text)
    series: list[Series]
    havings: list[Having]  # threshold: one; sequence: one per step; match: none
    uses: list[list[AggregateUse]]  # per having, per aggregate
    time: Checked
    key: Checked
    workspace: Checked | None
    entity_type: str
    entity_field: str | None  # a group name, or None when entity_expr gives it
    entity_expr: Checked | None
    summary_fields: dict[str, Checked] = field(default_factory=dict)  # match rules: placeholders read per row
    cost_expr: Checked | None = None  # match rules: per-row cost impact
    cost_use: AggregateUse | None = None  # threshold rules: aggregate giving the cost impact
    window_s: int = 0
    slide_s: int = 1
    suppress_s: int = 0
    lateness_s: int = 0
    reads: set[str] = field(default_factory=set)
    enrichments: set[str] = field(default_factory=set)
    line: int = 0  # where the rule's id is written

    @property
    def id(self) -> str:
        return self.rule.id

    @property
    def kind(self) -> str:
        return self.rule.kind

    @property
    def stateful(self) -> bool:
        return self.kind != "match" or self.suppress_s > 0

    def columns(self) -> dict[str, Column]:
        """The rule as Spark Columns over a batch of its source: each series' row condition and value, and
        the group keys (the engine itself sends all rules of a source to Spark as one SQL statement)."""
        from pyspark.sql import functions as F

        out = {}
        for s in self.series:
            out[f"series{s.index}"] = F.expr(s.flag.sql)
            if s.value is not None:
                out[f"series{s.index}_value"] = F.expr(s.value.sql)
        for part, exprs in enumerate(self.group_exprs):
            for name, g in zip(self.group_names, exprs):
                out[f"group{part}_{name}"] = F.expr(g.sql)
        return out

    def explain(self) -> dict:
        """What the rule compiles to, for ``rules explain``."""
        out = {
            "id": self.id, "version": self.version, "kind": self.kind, "source": self.source.name,
            "file": self.file, "time": self.time.sql, "evidence_key": {self.source.evidence_name: self.key.sql},
            "group_by": {name: [g[i].sql for g in self.group_exprs] for i, name in enumerate(self.group_names)},
            "series": [{"part": s.part, "rows": s.flag.sql, **({"value": s.value.sql} if s.value else {}),
                        **({"distinct": True} if s.distinct else {})} for s in self.series],
            "reads": sorted(self.reads), "enrichments": sorted(self.enrichments),
        }
        if self.kind == "threshold":
            out["threshold"] = self.havings[0].text
            out["window"] = {"size_s": self.window_s, "slide_s": self.slide_s}
        if self.kind == "sequence":
            out["steps"] = [{"name": s.name, "threshold": h.text} for s, h in zip(self.rule.sequence.steps, self.havings)]
            out["within_s"] = self.window_s
        out["suppress_s"] = self.suppress_s
        out["lateness_s"] = self.lateness_s
        return out


class _Issues:
    def __init__(self, doc: Document, rule_id: str | None):
        self.doc, self.rule_id = doc, rule_id
        self.items: list[Issue] = []

    def add(self, code: str, message: str, path: tuple, *, key: bool = False, offset: int | None = None,
            severity: str = "error") -> None:
        pos = self.doc.offset(path, offset) if offset is not None else self.doc.where(path, key=key)
        self.items.append(Issue(severity, code, message, self.doc.file, pos.line, pos.column, self.rule_id))

    def problems(self, exc: ExpressionProblems, path: tuple) -> None:
        for p in exc.problems:
            self.add(p.code, p.message, path, offset=p.offset)

    def located(self, found: list[det.Located]) -> None:
        for p in found:
            self.add(p.code, p.message, p.path, key=p.key, offset=p.offset)

    @property
    def failed(self) -> bool:
        return any(i.severity == "error" for i in self.items)


def source_scope(info: LogSourceInfo) -> Scope:
    """The mapping stage: the source's schema with its aliases checked."""
    scope = Scope(info.schema)
    for name, sql in info.aliases.items():
        scope.aliases[name] = check(sql, Scope(info.schema))
    return scope


def rule_version(rule: Rule) -> str:
    digest = hashlib.sha256(json.dumps(rule.logic_dict(), sort_keys=True).encode()).hexdigest()[:8]
    return f"{rule.version}.{digest}"


def compile_rule(rule: Rule, doc: Document) -> tuple[CompiledRule | None, list[Issue]]:
    """Check one rule against its source and build what the engine runs; issues for every problem."""
    issues = _Issues(doc, rule.id)
    info = LOGSOURCES.get(rule.logsource.table)
    if info is None:
        issues.add("logsource", f"{rule.logsource.table} has no time column and cannot be a rule source",
                   ("logsource", "table"))
        return None, issues.items
    scope = source_scope(info)
    for name, text in rule.fields.items():
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            issues.add("field", f"field names are identifiers (letters, digits, _); got {name!r}", ("fields", name),
                       key=True)
            continue
        if name in info.schema.fieldNames():
            issues.add("field", f"field `{name}` would hide the column of the same name; pick another name",
                       ("fields", name), key=True)
            continue
        checked = _expr(text, scope, issues, ("fields", name))
        if checked is not None:
            scope.aliases[name] = checked

    # Selections, then the condition over them.
    for name, value in rule.detection.selections().items():
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            issues.add("selection", f"selection names are identifiers (letters, digits, _); got {name!r}",
                       ("detection", name), key=True)
            continue
        if name in info.schema.fieldNames() or name in scope.aliases:
            issues.add("shadow", f"selection `{name}` hides the column or alias of the same name in conditions",
                       ("detection", name), key=True, severity="warning")
        checked, found = det.selection(value, Scope(info.schema, scope.aliases), ("detection", name))
        issues.located(found)
        if checked is not None:
            scope.selections[name] = checked
    names = list(rule.detection.selections())
    if issues.failed:
        return None, issues.items

    guards = _guards(rule, info, scope, issues)
    time = _time(rule, info, scope, issues)
    key = _cast_text(check(info.evidence_sql, scope))
    workspace = check("workspace_id", scope) if "workspace_id" in info.schema.fieldNames() else None

    used: set[str] = set()
    series: list[Series] = []
    havings: list[Having] = []
    uses: list[list[AggregateUse]] = []
    group_exprs: list[list[Checked]] = []
    group_names: list[str] = []
    cost_use = None
    cost_expr = None

    def add_series(part: int, flag: Checked, value: Checked | None, distinct: bool) -> int:
        sql = (part, flag.sql, value.sql if value else "", distinct)
        for s in series:
            if (s.part, s.flag.sql, s.value.sql if s.value else "", s.distinct) == sql:
                return s.index
        series.append(Series(len(series), part, flag, value, distinct))
        return series[-1].index

    def uses_for(part: int, base: Checked, having: Having) -> list[AggregateUse]:
        out = []
        for agg in having.aggregates:
            out.append(_aggregate_use(part, base, agg, add_series))
        return out

    if rule.kind in ("match", "threshold"):
        condition = _condition(rule, names, scope, issues)
        if condition is None:
            return None, issues.items
        used |= _selection_refs(rule.detection.condition, names)
        base = _and(condition, guards)
        for i, text in enumerate(rule.group_by):
            g = _expr(text, scope, issues, ("group_by", i))
            if g is not None:
                group_names.append(text)
                group_exprs.append(g)
        group_exprs = [[_cast_text(g) for g in group_exprs]] if group_exprs else [[]]
        if rule.kind == "match":
            add_series(0, base, None, False)
        else:
            having = _having(rule.threshold, scope, issues, ("threshold",))
            if having is not None:
                used |= _refs_in(rule.threshold, names)
                havings.append(having)
                uses.append(uses_for(0, base, having))
        if rule.cost_impact:
            if rule.kind == "match":
                cost_expr = _expr(rule.cost_impact, scope, issues, ("cost_impact",))
            else:
                agg_having = _having(f"{rule.cost_impact} >= 0", scope, issues, ("cost_impact",))
                if agg_having is not None:
                    if len(agg_having.aggregates) != 1:
                        issues.add("cost-impact", "cost_impact is one aggregate, e.g. sum(list_cost)", ("cost_impact",))
                    else:
                        cost_use = _aggregate_use(0, base, agg_having.aggregates[0], add_series)
    else:
        seq = rule.sequence
        group_names = [seq.entity]
        for k, step in enumerate(seq.steps):
            path = ("sequence", "steps", k)
            where = _expr(step.where, scope, issues, path + ("where",), boolean=True)
            by = _expr(step.by, scope, issues, path + ("by",))
            having = _having(step.threshold or DEFAULT_STEP, scope, issues, path + ("threshold",))
            used |= _refs_in(step.where, names) | _refs_in(step.threshold or "", names)
            if where is None or by is None or having is None:
                continue
            base = _and(where, guards)
            group_exprs.append([_cast_text(by)])
            havings.append(having)
            uses.append(uses_for(k, base, having))
    if issues.failed:
        return None, issues.items

    for name in names:
        if name not in used:
            issues.add("unused-selection", f"selection `{name}` is not used by the condition",
                       ("detection", name), key=True, severity="warning")

    entity_type, entity_field, entity_expr = _entity(rule, info, scope, group_names, issues)
    summary_fields = _summary(rule, scope, group_names, issues)
    if issues.failed:
        return None, issues.items

    window_s = rule.span_seconds()
    slide_s = max(1, window_s // 60) if window_s else 1
    if rule.kind == "match":
        suppress_s = duration_seconds(rule.suppress_for) if rule.suppress_for else 0
    else:
        suppress_s = max(window_s, duration_seconds(rule.suppress_for) if rule.suppress_for else 0)
    lateness_s = duration_seconds(rule.lateness) if rule.lateness else info.lateness_seconds
    reads = set().union(*(s.flag.reads for s in series), *(s.value.reads for s in series if s.value),
                        *(g.reads for part in group_exprs for g in part), time.reads)
    enrichments = {r.split(".")[0] for r in reads} & info.enriched_names
    signature_src = json.dumps([rule.kind, [(s.part, s.flag.sql, s.value.sql if s.value else "", s.distinct)
                                            for s in series], [[g.sql for g in p] for p in group_exprs],
                                window_s, slide_s], sort_keys=True)
    compiled = CompiledRule(
        rule=rule, file=doc.file, source=info, version=rule_version(rule),
        signature=hashlib.sha256(signature_src.encode()).hexdigest()[:12], group_names=group_names,
        group_exprs=group_exprs, series=series, havings=havings, uses=uses, time=time, key=key,
        workspace=workspace, entity_type=entity_type, entity_field=entity_field, entity_expr=entity_expr,
        summary_fields=summary_fields, cost_expr=cost_expr, cost_use=cost_use, window_s=window_s,
        slide_s=slide_s, suppress_s=suppress_s, lateness_s=lateness_s, reads=reads, enrichments=enrichments,
        line=doc.where(("id",)).line,
    )
    return compiled, issues.items


def _aggregate_use(part: int, base: Checked, agg: Aggregate, add_series) -> AggregateUse:
    flag = _and(base, agg.filter) if agg.filter is not None else base
    if agg.kind == "count":
        return AggregateUse("count", [add_series(part, flag, None, False)])
    if agg.kind == "count_value":
        not_null = Checked(exp.Not(this=exp.Is(this=agg.value.ast.copy(), expression=exp.Null())), BOOL,
                           set(agg.value.reads))
        return AggregateUse("count", [add_series(part, _and(flag, not_null), None, False)])
    if agg.kind in ("sum", "max"):
        value = Checked(exp.TryCast(this=agg.value.ast.copy(), to=exp.DataType.build("double"), safe=True),
                        T.DoubleType(), set(agg.value.reads))
        return AggregateUse(agg.kind, [add_series(part, flag, value, False)])
    if agg.kind == "distinct":
        return AggregateUse("distinct", [add_series(part, flag, _cast_text(agg.value), True)])
    if agg.kind == "streak":  # rows of `filter` since the last row of `other`
        counted = add_series(part, _and(base, agg.filter), None, False)
        reset = add_series(part, _and(base, agg.other), None, False)
        return AggregateUse("streak", [counted, reset])
    # distinct_except: values among rows of `filter` minus values among rows of `other`
    keep = add_series(part, _and(base, agg.filter), _cast_text(agg.value), True)
    drop = add_series(part, _and(base, agg.other), _cast_text(agg.value), True)
    return AggregateUse("distinct_except", [keep, drop])


def _and(a: Checked, b: Checked | None) -> Checked:
    if b is None:
        return a
    unique: dict[str, Checked] = {}
    for part in a.parts() + b.parts():  # keeps order, drops repeats
        unique.setdefault(part.sql, part)
    parts = tuple(unique.values())
    return Checked(exp.And(this=exp.Paren(this=a.ast.copy()), expression=exp.Paren(this=b.ast.copy())), BOOL,
                   a.reads | b.reads, parts)


def _cast_text(c: Checked) -> Checked:
    if isinstance(c.dtype, T.StringType):
        return c
    return Checked(exp.TryCast(this=c.ast.copy(), to=exp.DataType.build("string"), safe=True), T.StringType(),
                   set(c.reads))


def _expr(text: str, scope: Scope, issues: _Issues, path: tuple, boolean: bool = False) -> Checked | None:
    try:
        return check(text, scope, boolean=boolean)
    except ExpressionProblems as exc:
        issues.problems(exc, path)
        return None


def _having(text: str, scope: Scope, issues: _Issues, path: tuple) -> Having | None:
    try:
        return compile_having(text, scope)
    except ExpressionProblems as exc:
        issues.problems(exc, path)
        return None


def _condition(rule: Rule, names: list[str], scope: Scope, issues: _Issues) -> Checked | None:
    conditions = rule.detection.condition
    texts = conditions if isinstance(conditions, list) else [conditions]
    parts = []
    for i, text in enumerate(texts):
        path = ("detection", "condition", i) if isinstance(conditions, list) else ("detection", "condition")
        expanded = det.expand_quantifiers(text, names)
        try:
            checked = check(expanded, scope, boolean=True)
        except ExpressionProblems as exc:
            if expanded != text:  # offsets refer to the expanded text: point at the condition itself
                for p in exc.problems:
                    p.offset = None
            issues.problems(exc, path)
            continue
        parts.append(checked)
    if len(parts) != len(texts):
        return None
    out = parts[0]
    for p in parts[1:]:
        out = Checked(exp.Or(this=exp.Paren(this=out.ast), expression=exp.Paren(this=p.ast)), BOOL, out.reads | p.reads)
    return out


def _selection_refs(condition, names: list[str]) -> set[str]:
    texts = condition if isinstance(condition, list) else [condition or ""]
    return set().union(*(_refs_in(det.expand_quantifiers(t, names), names) for t in texts))


def _refs_in(text: str, names: list[str]) -> set[str]:
    expanded = det.expand_quantifiers(text, names)
    try:
        tree = parse(expanded)
    except ExpressionProblems:
        return set()
    found = {c.name for c in tree.find_all(exp.Column) if len(c.parts) == 1}
    found |= {i.name for i in tree.find_all(exp.Identifier)}
    return found & set(names)


def _time(rule: Rule, info: LogSourceInfo, scope: Scope, issues: _Issues) -> Checked:
    name = rule.time_field or info.time_column
    try:
        checked = check(name, scope)
    except ExpressionProblems as exc:
        issues.problems(exc, ("time_field",))
        return check(info.time_column, scope)
    if not isinstance(checked.dtype, (T.TimestampType, T.TimestampNTZType)):
        issues.add("time-field", f"time_field must be a timestamp, but `{name}` is a "
                                 f"{checked.dtype.simpleString() if checked.dtype else 'unknown'}", ("time_field",))
    return checked


def _guards(rule: Rule, info: LogSourceInfo, scope: Scope, issues: _Issues) -> Checked | None:
    """Allow-list and maintenance windows, as one predicate that must hold for a row to count."""
    excluded: list[exp.Expression] = []
    reads: set[str] = set()
    for field_name, values in rule.allowlist.items():
        path = ("allowlist", field_name)
        target = _expr(field_name, scope, issues, path)
        if target is None:
            continue
        reads |= target.reads
        options = []
        equal: list[exp.Expression] = []
        for i, value in enumerate(values):
            text = str(value)
            if "/" in text and re.match(r"^[0-9.]+/\d+$", text):
                try:
                    options.append(cidr_sql(target.ast, text))
                except ValueError as exc:
                    issues.add("value", f"not an IPv4 CIDR range: {text!r} ({exc})", path + (i,))
                continue
            if "*" in text or "?" in text:
                pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%").replace("?", "_")
                for message in like_problems(pattern):
                    issues.add("pattern", f"{text[:60]!r}: {message}", path + (i,))
                options.append(exp.Like(this=target.ast.copy(), expression=exp.Literal.string(pattern)))
                continue
            literal, problem = det._literal(value, target.dtype, path + (i,))
            if problem:
                issues.add(problem.code, problem.message, problem.path)
                continue
            equal.append(literal)
        if equal:
            options.insert(0, exp.EQ(this=target.ast.copy(), expression=equal[0]) if len(equal) == 1
                           else exp.In(this=target.ast.copy(), expressions=equal))
        if options:
            excluded.append(det._join(options, exp.Or))
    time_name = rule.time_field or info.time_column
    for i, window in enumerate(rule.maintenance_windows):
        path = ("maintenance_windows", i)
        t = exp.Column(this=exp.to_identifier(time_name, quoted=True))
        reads.add(time_name)
        if window.from_ is not None:
            def ts(d):
                d = d.astimezone(timezone.utc).replace(tzinfo=None) if d.tzinfo else d
                return exp.TryCast(this=exp.Literal.string(d.isoformat(sep=" ")), to=exp.DataType.build("timestamp"),
                                   safe=True)
            excluded.append(exp.And(this=exp.GTE(this=t.copy(), expression=ts(window.from_)),
                                    expression=exp.LT(this=t.copy(), expression=ts(window.until))))
            continue
        try:
            ZoneInfo(window.timezone)
        except Exception:  # zoneinfo raises several types for bad names
            issues.add("timezone", f"unknown time zone {window.timezone!r} (use an IANA name such as Asia/Kolkata)",
                       path + ("timezone",))
            continue
        local = parse(f"from_utc_timestamp({t.sql(dialect='spark')}, '{window.timezone}')")
        minute = exp.Add(this=exp.Mul(this=exp.Hour(this=local.copy()), expression=exp.Literal.number(60)),
                         expression=exp.Minute(this=local.copy()))
        start = int(window.start[:2]) * 60 + int(window.start[3:])
        end = int(window.end[:2]) * 60 + int(window.end[3:])
        lo = exp.GTE(this=minute.copy(), expression=exp.Literal.number(start))
        hi = exp.LT(this=minute.copy(), expression=exp.Literal.number(end))
        inside: exp.Expression = exp.And(this=lo, expression=hi) if start < end else \
            exp.Paren(this=exp.Or(this=lo, expression=hi))
        if window.weekdays:
            days = [exp.Literal.number(_WEEKDAYS[d]) for d in window.weekdays]
            inside = exp.And(this=exp.Paren(this=inside),
                             expression=exp.In(this=exp.DayOfWeek(this=local.copy()), expressions=days))
        excluded.append(exp.Paren(this=inside))
    if not excluded:
        return None
    any_excluded = det._join([exp.Paren(this=e) for e in excluded], exp.Or)
    guard = exp.Not(this=exp.Coalesce(this=exp.Paren(this=any_excluded), expressions=[exp.Boolean(this=False)]))
    return Checked(guard, BOOL, reads)


def _entity(rule: Rule, info: LogSourceInfo, scope: Scope, groups: list[str],
            issues: _Issues) -> tuple[str, str | None, Checked | None]:
    if rule.entity is not None:
        etype, fname = rule.entity.type, rule.entity.field
    elif groups:
        etype, fname = groups[0].split(".")[-1], groups[0]
    else:
        etype, fname = info.entity
    if fname in groups:
        return etype, fname, None
    if rule.kind != "match":
        if rule.entity is not None:
            issues.add("entity", f"entity.field must be one of the group keys ({', '.join(groups) or 'none'}): "
                                 "an aggregate has one value per group", ("entity", "field"))
        return etype, None, None
    expr = _expr(fname, scope, issues, ("entity", "field"))
    return etype, None, _cast_text(expr) if expr is not None else None


def _summary(rule: Rule, scope: Scope, groups: list[str], issues: _Issues) -> dict[str, Checked]:
    if not rule.summary:
        return {}
    fields: dict[str, Checked] = {}
    for m in _PLACEHOLDER.finditer(rule.summary):
        name = m.group(1)
        if name in groups or name in METRIC_PLACEHOLDERS or name in fields:
            continue
        if rule.kind != "match":
            issues.add("summary", f"summary placeholder {{{name}}} is not a group key or one of "
                                  f"{', '.join(METRIC_PLACEHOLDERS)}", ("summary",), offset=m.start() + 1)
            continue
        checked = _expr(name, scope, issues, ("summary",))
        if checked is not None:
            fields[name] = _cast_text(checked)
    return fields


def placeholders(template: str) -> list[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(template)]


def render(template: str, values: dict[str, object]) -> str:
    """Fill ``{name}`` placeholders (no attribute access, no format specs: plain lookups)."""
    return _PLACEHOLDER.sub(lambda m: "" if values.get(m.group(1)) is None else str(values[m.group(1)]), template)
