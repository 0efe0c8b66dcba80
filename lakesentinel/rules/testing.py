"""Rule test cases, in the manner of ``promtool test rules``: input rows in, expected alerts out.

Each case's rows are typed against the source schema (a value that does not fit is reported with the
case, row and field), tagged with the case and micro-batch they belong to, and all cases of a source
run through the same projection and evaluators as the stream, in one Spark job. Each case then replays
its own batches in order against fresh state and compares the alerts with ``expect``: every expected
alert must match one actual alert on the fields it gives, and the counts must agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from lakesentinel.alerts.record import ALERT_COLUMNS
from lakesentinel.rules import windows
from lakesentinel.rules.compiler import CompiledRule
from lakesentinel.rules.emit import alert_record
from lakesentinel.rules.issues import RuleTestInputError
from lakesentinel.rules.matchframe import MatchPlan
from lakesentinel.rules.model import InputRow, RuleTest, duration_seconds
from lakesentinel.rules.state import StateStore

FIXED_DETECTED_AT = datetime(2030, 1, 1, tzinfo=timezone.utc)
EXTRA_EXPECT_KEYS = ("evidence_count",)
_OFFSET = re.compile(r"^([+-])(\d+)(s|m|h|d)$")
_DERIVED_DATES = {"access.audit": ("event_date", "event_time"), "billing.usage": ("usage_date", "usage_start_time")}


@dataclass
class CaseResult:
    rule_id: str
    case: str
    passed: bool
    message: str = ""
    alerts: list[dict] = field(default_factory=list)
    file: str = ""


def run_tests(spark: SparkSession, rules: list[CompiledRule]) -> list[CaseResult]:
    """Run every test case of ``rules``; one Spark job per source."""
    results: list[CaseResult] = []
    by_source: dict[str, list[CompiledRule]] = {}
    for rule in rules:
        if rule.rule.tests:
            by_source.setdefault(rule.source.name, []).append(rule)
    for source, group in sorted(by_source.items()):
        results += _run_source(spark, group)
    return results


def _run_source(spark: SparkSession, rules: list[CompiledRule]) -> list[CaseResult]:
    info = rules[0].source
    schema = T.StructType(list(info.schema.fields) + [T.StructField("_case", T.IntegerType()),
                                                      T.StructField("_batch", T.IntegerType())])
    rows: list[tuple] = []
    cases: list[tuple[CompiledRule, RuleTest]] = []
    results: dict[int, CaseResult] = {}
    for rule in rules:
        for t_index, case in enumerate(rule.rule.tests):
            number = len(cases)
            cases.append((rule, case))
            try:
                rows += [tuple(r) + (number, b) for r, b in expand_case(rule, t_index, case, info.schema)]
            except RuleTestInputError as exc:
                results[number] = CaseResult(rule.id, case.name, False, str(exc), file=rule.file)
    plan = MatchPlan.build(info, rules, passthrough=("_case", "_batch"))
    try:
        collected = plan.collect(spark.createDataFrame(rows, schema)) if rows else None
    except Exception as exc:  # noqa: BLE001  (report against every case of the source)
        text = str(exc).splitlines()[0][:300]
        return [CaseResult(r.id, c.name, False, f"Spark could not evaluate the source's rules: {text}", file=r.file)
                for r, c in cases]
    out = []
    for number, (rule, case) in enumerate(cases):
        if number in results:
            out.append(results[number])
            continue
        alerts = []
        store = StateStore()
        if collected is not None and collected.n:
            case_col = np.asarray(collected.columns["_case"])
            batch_col = np.asarray(collected.columns["_batch"])
            mine = case_col == number
            for b in sorted(set(batch_col[mine].tolist())):
                subset = collected.subset(np.nonzero(mine & (batch_col == b))[0])
                batch = store.begin(f"test-{number}", b)
                stats = windows.EvaluationStats()
                firings = windows.evaluate(rule, subset, store, batch, stats)
                store.commit(batch)
                alerts += [alert_record(f, FIXED_DETECTED_AT) for f in firings]
        passed, message = compare(case.expect, alerts)
        out.append(CaseResult(rule.id, case.name, passed, message, alerts, rule.file))
    return out


# ---- input rows --------------------------------------------------------------------------------
def expand_case(rule: CompiledRule, t_index: int, case: RuleTest, schema: T.StructType) -> list[tuple[list, int]]:
    """The case's rows, typed in schema order, each with its micro-batch number."""
    time_col = rule.rule.time_field or rule.source.time_column
    start = case.start if case.start.tzinfo else case.start.replace(tzinfo=timezone.utc)
    out = []
    for r_index, item in enumerate(case.input):
        spec = item if isinstance(item, InputRow) else InputRow(row=item)
        base_time = _time_of(spec.at, start, f"tests[{t_index}].input[{r_index}].at", rule)
        step = timedelta(seconds=duration_seconds(spec.every)) if spec.every else timedelta(0)
        for i in range(spec.repeat):
            values = _substitute(spec.row, i) if spec.repeat > 1 else dict(spec.row)
            values.setdefault(time_col, base_time + step * i)
            key = rule.source.evidence_name
            if key in schema.fieldNames() and key not in values:
                values[key] = f"t{t_index}-r{r_index}-{i}"
            derived = _DERIVED_DATES.get(rule.source.name)
            if derived and derived[0] not in values and isinstance(values.get(derived[1]), datetime):
                values[derived[0]] = values[derived[1]].date()
            where = f"{rule.file}: rule {rule.id}: tests[{t_index}] ({case.name!r}) input[{r_index}]" + (
                f" copy {i}" if spec.repeat > 1 else "")
            out.append((to_row(values, schema, where), spec.batch))
    return out


def _time_of(at: str | None, start: datetime, where: str, rule: CompiledRule) -> datetime:
    if at is None:
        return start
    m = _OFFSET.match(at)
    if m:
        seconds = duration_seconds(m.group(2) + m.group(3))
        return start + timedelta(seconds=seconds if m.group(1) == "+" else -seconds)
    try:
        parsed = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise RuleTestInputError(f"{rule.file}: rule {rule.id}: {where}: {at!r} is neither an offset like +5m "
                                 "nor an ISO time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _substitute(value: Any, i: int) -> Any:
    if isinstance(value, str):
        return value.replace("{i}", str(i))
    if isinstance(value, dict):
        return {k: _substitute(v, i) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, i) for v in value]
    return value


def to_row(values: dict, schema: T.StructType, where: str) -> list:
    unknown = [k for k in values if k not in schema.fieldNames()]
    if unknown:
        raise RuleTestInputError(f"{where}: unknown column(s) {', '.join(unknown)}")
    return [coerce(values.get(f.name), f.dataType, f"{where}.{f.name}") for f in schema.fields]


def coerce(value: Any, dt: T.DataType, where: str) -> Any:
    """A YAML value as the Python value Spark expects for ``dt``; RuleTestInputError if it does not fit."""
    if value is None:
        return None
    try:
        if isinstance(dt, T.StringType):
            if isinstance(value, (dict, list)):
                raise ValueError("expected text")
            return str(value).lower() if isinstance(value, bool) else str(value)
        if isinstance(dt, (T.LongType, T.IntegerType, T.ShortType, T.ByteType)):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("expected a whole number")
            return int(value)
        if isinstance(dt, (T.DoubleType, T.FloatType)):
            if isinstance(value, bool):
                raise ValueError("expected a number")
            return float(value)
        if isinstance(dt, T.DecimalType):
            if isinstance(value, bool):
                raise ValueError("expected a number")
            return Decimal(str(value))
        if isinstance(dt, T.BooleanType):
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if isinstance(dt, (T.TimestampType, T.TimestampNTZType)):
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        if isinstance(dt, T.DateType):
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            return date.fromisoformat(str(value))
        if isinstance(dt, T.StructType):
            if not isinstance(value, dict):
                raise ValueError("expected a mapping of fields")
            return tuple(to_row(value, dt, where))
        if isinstance(dt, T.MapType):
            if not isinstance(value, dict):
                raise ValueError("expected a mapping")
            return {coerce(k, dt.keyType, f"{where}[{k}]"): coerce(v, dt.valueType, f"{where}[{k}]")
                    for k, v in value.items()}
        if isinstance(dt, T.ArrayType):
            if not isinstance(value, list):
                raise ValueError("expected a list")
            return [coerce(v, dt.elementType, f"{where}[{i}]") for i, v in enumerate(value)]
    except RuleTestInputError:
        raise
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise RuleTestInputError(f"{where}: {value!r} does not fit {dt.simpleString()} ({exc})") from None
    raise RuleTestInputError(f"{where}: unsupported type {dt.simpleString()}")


# ---- expectations ------------------------------------------------------------------------------
_ALERT_FIELDS = {name for name, _ in ALERT_COLUMNS}


def compare(expect: list[dict], alerts: list[dict]) -> tuple[bool, str]:
    """Match each expected alert to a distinct actual one; the counts must agree."""
    for e in expect:
        unknown = [k for k in e if k not in _ALERT_FIELDS and k not in EXTRA_EXPECT_KEYS]
        if unknown:
            return False, f"unknown field(s) in expect: {', '.join(unknown)}"
    free = list(range(len(alerts)))
    for e in expect:
        hit = next((i for i in free if _matches(e, alerts[i])), None)
        if hit is None:
            return False, f"no alert matches {e}; got {[_brief(a) for a in alerts] or 'no alerts'}"
        free.remove(hit)
    if free:
        return False, f"{len(free)} unexpected alert(s): {[_brief(alerts[i]) for i in free]}"
    return True, f"{len(alerts)} alert(s) as expected"


def _matches(expected: dict, alert: dict) -> bool:
    for key, want in expected.items():
        if key == "evidence_count":
            got = sum(len(v) for v in (alert["evidence"] or {}).values())
        else:
            got = alert.get(key)
        if not _equal(want, got):
            return False
    return True


def _equal(want: Any, got: Any) -> bool:
    if isinstance(want, dict) and isinstance(got, dict):
        return all(k in got and _equal(v, got[k]) for k, v in want.items())
    if isinstance(got, datetime):
        try:
            parsed = want if isinstance(want, datetime) else datetime.fromisoformat(str(want).replace("Z", "+00:00"))
        except ValueError:
            return False
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        return parsed == got
    if isinstance(got, (int, float, Decimal)) and isinstance(want, (int, float)) and not isinstance(want, bool):
        return abs(float(got) - float(want)) <= 1e-9 * max(1.0, abs(float(want)))
    if isinstance(want, list) and isinstance(got, list):
        return all(w in got for w in want)
    return str(want) == str(got) if got is not None and want is not None else want == got


def _brief(alert: dict) -> dict:
    keys = ("entity_id", "workspace_id", "observed", "window_start", "window_end")
    out = {k: alert[k].isoformat() if isinstance(alert[k], datetime) else alert[k] for k in keys}
    out["evidence_count"] = sum(len(v) for v in (alert["evidence"] or {}).values())
    return out
