"""One entity's life: rows into windows, windows closed as the watermark passes, each closed window
scored before it is learned, and the decision whether it alerts.

The state (:class:`EntityState`) is small and bounded: the model (fixed size), the windows still
open (at most lateness / window size of them once the stream is caught up), a few counters. Windows
close strictly in order and only once the watermark has passed their end, so the same rows give the
same scores however they were split into micro-batches, and after a restart from a checkpoint.

Times are integer microseconds since the epoch, UTC.

>>> from lakesentinel.detectors.spec import parse_spec
>>> spec = parse_spec('''
... id: demo.failures
... domain: reliability
... metric:
...   source: lakeflow.job_run_timeline
...   entity: [job_id]
...   entity_type: job
...   window: {size: 1h}
...   features: [{name: failed, measure: failed, agg: sum}]
... model: {type: robust_quantile, params: {min_scale: 0.5}}
... warmup: {windows: 3}
... alert: {severity: {high: 0.8}, title: "job {job_id}: {failed:.0f} failed runs"}
... ''')
>>> scorer = EntityScorer(spec)
>>> state = scorer.new_state()
>>> hour = 3600 * US
>>> scorer.add_rows(state, [0, hour, 2 * hour, 3 * hour, 4 * hour], {"failed": [0, 0, 1, 0, 6]})
>>> [(w.observed, w.severity, w.cold_start) for w in scorer.close(state, watermark_us=5 * hour)]
[(0.0, None, True), (0.0, None, True), (1.0, None, True), (0.0, None, False), (6.0, 'high', False)]
"""

from __future__ import annotations

import json
import math
import pickle
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from lakesentinel.alerts.record import SEVERITIES
from lakesentinel.detectors.base import Detector
from lakesentinel.detectors.spec import DetectorSpec, duration_seconds

US = 1_000_000
MAX_EVIDENCE = 50  # source-row keys kept per window
MAX_VALUES = 4096  # values kept per window for a quantile; beyond it every other one is dropped
MAX_DISTINCT = 10_000
MAX_WORKSPACES = 16


class _Formatter(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass
class Window:
    """Partial aggregates of one open window."""

    rows: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    evidence: list[tuple[int, str]] = field(default_factory=list)
    workspaces: dict[str, int] = field(default_factory=dict)
    committed_us: int | None = None


@dataclass
class EntityState:
    detector: Detector
    learned: int = 0  # windows learned (warm once this reaches the spec's warm-up)
    open: dict[int, Window] = field(default_factory=dict)  # window start -> partial aggregates
    next_start: int | None = None  # start of the next window to close
    closed_until: int | None = None  # end of the last window closed: rows before it are too late
    streak: int = 0  # consecutive windows at or above the lowest threshold
    held_back: int = 0  # alerting windows not learned since the last alerting window that was
    last_data_end: int | None = None  # end of the latest window that had rows
    idle_before: bool = False  # first seen while the stream was running: learn idle windows before its first


@dataclass(frozen=True)
class ScoredWindow:
    window_start_us: int
    window_end_us: int
    workspace_id: str | None
    features: dict[str, float]
    expected_features: dict[str, float]
    observed: float | None
    expected: float | None
    score: float
    severity: str | None
    cold_start: bool
    rows: int
    evidence: list[str]
    committed_us: int | None
    learned: bool

    @property
    def alerting(self) -> bool:
        return self.severity is not None


def dump_state(state: EntityState) -> bytes:
    """Compact bytes of an entity's state (pickle, compressed), as kept in Spark's state store."""
    return zlib.compress(pickle.dumps(state, protocol=5), 1)


def load_state(blob: bytes) -> EntityState:
    return pickle.loads(zlib.decompress(blob))


def _add_exact(partials: list[float], x: float) -> None:
    """Add ``x`` to a sum kept as non-overlapping partials (Shewchuk), as ``math.fsum`` does.

    ``math.fsum(partials)`` is then the correctly rounded sum, whatever order the values came in:
    rows split differently into micro-batches (after a restart, say) give bit-identical sums.
    """
    i = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo:
            partials[i] = lo
            i += 1
        x = hi
    partials[i:] = [x]


def _num(value) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class EntityScorer:
    """Applies one spec to one entity's state; holds no state itself."""

    def __init__(self, spec: DetectorSpec):
        self.spec = spec
        self.size_us = spec.metric.window.size_seconds * US
        self.ttl_us = duration_seconds(spec.state_ttl) * US
        self.features = [(f.name, f.agg) for f in spec.metric.features]
        self.primary = self.features[0][0]
        self.zero_fill = spec.empty == "zero"
        self.min_rows = spec.metric.min_rows
        self.lowest = spec.alert.lowest_threshold
        self.cap = SEVERITIES.index(spec.warmup.max_severity)

    def new_state(self, stream_running: bool = False) -> EntityState:
        """A fresh entity; ``stream_running``: the source was watched for a warm-up before it appeared
        (:meth:`appeared_later`)."""
        return EntityState(detector=self.spec.build_detector(),
                           idle_before=stream_running and self.spec.warmup.idle_before and self.zero_fill)

    def appeared_later(self, first_us: int, origin_us: int | None) -> bool:
        """Whether an entity whose first row is at ``first_us`` appeared while the source was watched:
        at least a warm-up of windows after the source's first row (``origin_us``). Event time alone
        decides, so the answer is the same however rows were batched or the stream restarted."""
        return origin_us is not None and first_us - origin_us >= self.spec.warmup.windows * self.size_us

    # ---- rows into windows ---------------------------------------------------------------------
    def add_rows(self, state: EntityState, times_us: Sequence[int], features: dict[str, Sequence],
                 evidence: Sequence[str | None] | None = None, workspaces: Sequence[str | None] | None = None,
                 committed_us: Sequence[int | None] | None = None) -> None:
        """Add rows (event time, feature values, and optionally their keys, workspace and commit time)."""
        size = self.size_us
        closed_before = state.closed_until
        for i, t in enumerate(times_us):
            start = (int(t) // size) * size
            if closed_before is not None and start < closed_before:
                continue  # its window has been scored already: too late to count
            w = state.open.get(start)
            if w is None:
                w = state.open[start] = Window()
            w.rows += 1
            for name, agg in self.features:
                self._accumulate(w.values, name, agg, features[name][i])
            if evidence is not None and evidence[i] is not None:
                w.evidence.append((int(t), str(evidence[i])))
                if len(w.evidence) > 2 * MAX_EVIDENCE:
                    w.evidence = sorted(w.evidence)[:MAX_EVIDENCE]
            if workspaces is not None and workspaces[i] is not None:
                ws = str(workspaces[i])
                if ws in w.workspaces or len(w.workspaces) < MAX_WORKSPACES:
                    w.workspaces[ws] = w.workspaces.get(ws, 0) + 1
            if committed_us is not None:
                c = committed_us[i]
                if c is not None and c == c:
                    w.committed_us = int(c) if w.committed_us is None else max(w.committed_us, int(c))
        if state.closed_until is None and state.open:
            # Nothing closed yet: the first window is the earliest seen so far, in whatever order rows came.
            state.next_start = min(state.open)

    @staticmethod
    def _accumulate(values: dict, name: str, agg: str, raw) -> None:
        if agg == "count_distinct":
            if raw is None or (isinstance(raw, float) and math.isnan(raw)):
                return
            seen = values.setdefault(name, set())
            if len(seen) < MAX_DISTINCT:
                seen.add(str(raw))
            return
        v = _num(raw)
        if v is None:
            return
        if agg == "sum":
            _add_exact(values.setdefault(name, []), v)
        elif agg == "count":
            values[name] = values.get(name, 0) + 1
        elif agg == "mean":
            partials, n = values.get(name, ([], 0))
            _add_exact(partials, v)
            values[name] = (partials, n + 1)
        elif agg == "min":
            values[name] = v if name not in values else min(values[name], v)
        elif agg == "max":
            values[name] = v if name not in values else max(values[name], v)
        else:  # a percentile
            kept = values.setdefault(name, [])
            kept.append(v)
            if len(kept) > MAX_VALUES:
                kept.sort()
                del kept[::2]

    def _finish(self, w: Window | None) -> dict[str, float]:
        x: dict[str, float] = {}
        for name, agg in self.features:
            v = None if w is None else w.values.get(name)
            if agg == "sum":
                x[name] = math.fsum(v or ())
            elif agg == "count":
                x[name] = float(v or 0)
            elif agg == "count_distinct":
                x[name] = float(len(v or ()))
            elif v is None:
                continue  # no value: a missing feature
            elif agg == "mean":
                x[name] = math.fsum(v[0]) / v[1]
            elif agg in ("min", "max"):
                x[name] = v
            else:
                ordered = sorted(v)
                q = int(agg[1:]) / 100.0
                pos = q * (len(ordered) - 1)
                lo = int(pos)
                hi = min(lo + 1, len(ordered) - 1)
                x[name] = ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
        return x

    # ---- closing windows -------------------------------------------------------------------------
    def close(self, state: EntityState, watermark_us: int) -> list[ScoredWindow]:
        """Score and learn, in order, every window that ended at or before the watermark."""
        out: list[ScoredWindow] = []
        if state.next_start is None:
            return out
        size = self.size_us
        if self.zero_fill:
            # Empty windows are zeros, up to the watermark but never beyond the state's time to live.
            latest = max([state.last_data_end or 0] + [s + size for s, w in state.open.items() if w.rows])
            limit = min(watermark_us, latest + self.ttl_us)
            start = state.next_start
            if state.closed_until is None and state.idle_before and start + size <= limit:
                self._learn_idle(state, start)
            while start + size <= limit:
                out.append(self._score(state, start, state.open.pop(start, None)))
                start += size
                state.closed_until = start
            state.next_start = start
        else:
            for start in sorted(s for s in state.open if s + size <= watermark_us):
                w = state.open.pop(start)
                state.next_start = state.closed_until = start + size
                if w.rows >= self.min_rows:
                    out.append(self._score(state, start, w))
        return out

    def _learn_idle(self, state: EntityState, first_start: int) -> None:
        """The warm-up's worth of empty windows before an entity's first, learned as zeros (not emitted,
        not counted as learned: the entity stays cold)."""
        zeros = {name: 0.0 for name, _ in self.features}
        for i in range(self.spec.warmup.windows, 0, -1):
            start = first_start - i * self.size_us
            state.detector.learn_one(zeros, datetime.fromtimestamp(start / US, tz=timezone.utc))
        state.idle_before = False

    def _score(self, state: EntityState, start: int, w: Window | None, end: int | None = None,
               x: dict[str, float] | None = None) -> ScoredWindow:
        spec, det = self.spec, state.detector
        x = self._finish(w) if x is None else x
        t = datetime.fromtimestamp(start / US, tz=timezone.utc)
        score = float(det.score_one(x, t))
        expected = det.expected_one(x, t)
        cold = state.learned < spec.warmup.windows
        above = score >= self.lowest
        state.streak = state.streak + 1 if above else 0
        severity = spec.alert.severity_for(score) if above and state.streak >= spec.alert.for_windows else None
        if severity is not None and cold and SEVERITIES.index(severity) > self.cap:
            severity = SEVERITIES[self.cap]
        hold = spec.alert.protect and above and not cold and state.held_back < spec.alert.protect_windows
        if hold:
            det.hold_one(x, t)
            state.held_back += 1
        else:
            det.learn_one(x, t)
            state.learned += 1
            if above:
                state.held_back = 0
        end = start + self.size_us if end is None else end
        if w is not None and w.rows:
            state.last_data_end = end
        workspace = None
        if w is not None and w.workspaces:
            workspace = sorted(w.workspaces.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        return ScoredWindow(
            window_start_us=start, window_end_us=end, workspace_id=workspace, features=x,
            expected_features={k: float(v) for k, v in expected.items()},
            observed=x.get(self.primary), expected=_num(expected.get(self.primary)), score=score,
            severity=severity, cold_start=cold, rows=0 if w is None else w.rows,
            evidence=[] if w is None else [k for _, k in sorted(w.evidence)[:MAX_EVIDENCE]],
            committed_us=None if w is None else w.committed_us, learned=not hold)

    def score_point(self, state: EntityState, t_us: int, x: dict[str, float]) -> ScoredWindow:
        """Score and learn one observation as it comes, without windows (series from elsewhere)."""
        values = {k: v for k, v in ((name, _num(x.get(name))) for name, _ in self.features) if v is not None}
        return self._score(state, int(t_us), Window(rows=1), end=int(t_us), x=values)

    # ---- lifetime --------------------------------------------------------------------------------
    def expired(self, state: EntityState, watermark_us: int) -> bool:
        """No rows for longer than the time to live, and nothing left open."""
        return (not state.open and state.last_data_end is not None
                and watermark_us - state.last_data_end > self.ttl_us)

    def next_timeout_us(self, state: EntityState) -> int | None:
        """When the watermark must next wake this entity up (a window to close, or its expiry)."""
        if self.zero_fill and state.next_start is not None:
            return state.next_start + self.size_us
        if state.open:
            return min(state.open) + self.size_us
        if state.last_data_end is not None:
            return state.last_data_end + self.ttl_us + 1
        return None

    # ---- words ----------------------------------------------------------------------------------
    def describe(self, keys: dict[str, str | None], w: ScoredWindow) -> tuple[str, str]:
        """The alert's title and summary from the spec's templates."""
        values = _Formatter({k.replace(".", "_"): v for k, v in keys.items()})
        values.update(keys)
        values.update(w.features)
        values.update(observed=w.observed if w.observed is not None else float("nan"),
                      expected=w.expected if w.expected is not None else float("nan"), score=w.score,
                      severity=w.severity, detector=self.spec.id, entity_type=self.spec.metric.entity_type,
                      entity_id=entity_id(self.spec, keys), workspace_id=keys.get("workspace_id", w.workspace_id),
                      window_start=datetime.fromtimestamp(w.window_start_us / US, tz=timezone.utc),
                      window_end=datetime.fromtimestamp(w.window_end_us / US, tz=timezone.utc))
        out = []
        for template in (self.spec.alert.title, self.spec.alert.summary):
            try:
                out.append(template.format_map(values))
            except (ValueError, TypeError, KeyError):  # e.g. a number format on a missing value
                out.append(template)
        return out[0], out[1]


def entity_id(spec: DetectorSpec, keys: dict[str, str | None]) -> str:
    """The entity's id: its key values other than the workspace, joined with '/'."""
    parts = [str(keys.get(k)) for k in spec.metric.entity if k != "workspace_id"]
    return "/".join(parts) if parts else str(keys.get("workspace_id"))


def features_json(values: dict[str, float]) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def score_series(spec: DetectorSpec, points: Iterable[tuple[int, float]], windowed: bool = False) -> list[ScoredWindow]:
    """A univariate series of (time in microseconds, value) through one entity, in time order.

    By default each point is one observation of the spec's first feature (series from elsewhere come
    at their own cadence); with ``windowed`` the points are aggregated into the spec's windows first.
    Any other feature of the spec is absent.
    """
    scorer = EntityScorer(spec)
    state = scorer.new_state()
    ordered = sorted((int(t), v) for t, v in points)
    if not ordered:
        return []
    if not windowed:
        return [scorer.score_point(state, t, {scorer.primary: v}) for t, v in ordered]
    times = [t for t, _ in ordered]
    values = [v for _, v in ordered]
    others = [None] * len(values)
    scorer.add_rows(state, times, {name: values if name == scorer.primary else others for name, _ in scorer.features})
    last = times[-1]
    return scorer.close(state, last - last % scorer.size_us + scorer.size_us)
