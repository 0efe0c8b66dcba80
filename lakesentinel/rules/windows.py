"""The evaluators that run on the driver over a batch's matched rows: match, threshold, sequence.

Windows slide in steps of 1/60 of their size (a 60-minute window moves by the minute) and are
anchored where matching rows are: a rule fires for the first window ``[start, start + size)`` whose
aggregates pass the threshold, so a burst straddling a clock-hour boundary fires like any other. Each
group key has its own windows (a second offender is never hidden behind the first); once a group
fires, windows overlapping the fired one stay quiet for ``suppress_for`` (at least the window).
Alert windows are aligned to the slide, so the same rows give the same alert id however they were
split into micro-batches.

Rows older than the rule's watermark (the newest event time seen minus the allowed lateness) are
dropped as late; buckets that no future row can reach are pruned, which bounds the state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from lakesentinel.rules.compiler import AggregateUse, CompiledRule
from lakesentinel.rules.matchframe import NO_TIME, MatchRows
from lakesentinel.rules.state import RULE_KEY, Batch, GroupState, RuleState, StateStore

US = 1_000_000
EVIDENCE_PER_ALERT = 100
WORKSPACE_NAMES = ("workspace_id", "workspace")


@dataclass
class Firing:
    """One alert-to-be: the rule, its group key, the window and what was seen in it."""

    rule: CompiledRule
    group: dict[str, str | None]
    start_us: int
    end_us: int
    observed: float | None
    expected: float | None
    evidence: list[str]
    workspace_id: str | None
    committed_us: int | None
    first_us: int
    last_us: int
    entity_id: str | None
    fields: dict[str, object] = field(default_factory=dict)
    cost: float | None = None


@dataclass
class EvaluationStats:
    matched: int = 0
    late: int = 0
    firings: int = 0


def evaluate(rule: CompiledRule, rows: MatchRows, store: StateStore, batch: Batch,
             stats: EvaluationStats) -> list[Firing]:
    if rule.kind == "match":
        return _match(rule, rows, store, batch, stats)
    return _windowed(rule, rows, store, batch, stats)


# ---- match rules ------------------------------------------------------------------------------
def _match(rule: CompiledRule, rows: MatchRows, store: StateStore, batch: Batch,
           stats: EvaluationStats) -> list[Firing]:
    plan = rows.plan.plans[rule.id]
    idx = rows.indices(rule.id, 0)
    if not len(idx):
        return []
    times = rows.times(rule.id)
    order = idx[np.argsort(times[idx], kind="stable")]
    stats.matched += len(order)
    rs = store.rule_state(rule.id, rule.signature) if rule.suppress_s else None
    suppress = rule.suppress_s * US
    out = []
    for i in order:
        t = int(times[i])
        if t == NO_TIME:
            continue
        if plan.groups[0]:
            group = {n: rows.columns[c][i] for n, c in zip(rule.group_names, plan.groups[0])}
        else:
            group = {rule.source.evidence_name: rows.keys[i]}
        if rs is not None:
            gkey = json.dumps(list(group.values()))
            g = rs.groups.get(gkey)
            if g is not None and g.suppressed(t, t + 1):
                continue
            batch.touch(rs, gkey)
            g = rs.groups.setdefault(gkey, GroupState())
            g.fired.append([t, t + suppress])
        fields = {k: rows.columns[c][i] for k, c in plan.summary.items()}
        cost = rows.columns[plan.cost][i] if plan.cost else None
        entity = rows.columns[plan.entity][i] if plan.entity else group.get(rule.entity_field)
        out.append(Firing(rule, group, t, t, 1.0, None, [rows.keys[i]] if rows.keys[i] is not None else [],
                          _workspace(group, rows.workspaces[i]), rows.committed[i], t, t, entity, fields,
                          float(cost) if cost is not None else None))
    if rs is not None:
        newest = int(times[order].max())
        _advance(rs, batch, newest, lambda g, horizon: g.prune({}, horizon), rule.lateness_s * US)
    return out


# ---- threshold and sequence rules ---------------------------------------------------------------
def _windowed(rule: CompiledRule, rows: MatchRows, store: StateStore, batch: Batch,
              stats: EvaluationStats) -> list[Firing]:
    rs = store.rule_state(rule.id, rule.signature)
    plan = rows.plan.plans[rule.id]
    times = rows.times(rule.id)
    slide = rule.slide_s * US
    late_before = rs.max_seen - rule.lateness_s * US if rs.max_seen is not None else None
    touched: dict[str, set[int]] = {}
    group_values: dict[str, list] = {}
    newest = None
    for s in rule.series:
        idx = rows.indices(rule.id, s.index)
        if not len(idx):
            continue
        gcols = plan.groups[s.part]
        vcol = plan.values.get(s.index)
        for i in idx.tolist():
            t = int(times[i])
            if t == NO_TIME:
                continue
            if late_before is not None and t < late_before:
                stats.late += 1
                continue
            gvals = [rows.columns[c][i] for c in gcols]
            if rule.kind == "sequence" and gvals[0] is None:
                continue  # a step without an entity cannot be correlated
            value, amount = "", None
            if vcol is not None:
                v = rows.columns[vcol][i]
                if v is None:
                    continue
                if s.distinct:
                    value = v
                else:
                    amount = float(v)
            gkey = json.dumps(gvals)
            buckets = touched.get(gkey)
            if buckets is None:
                batch.touch(rs, gkey)
                buckets = touched[gkey] = set()
                group_values[gkey] = gvals
            g = rs.groups.get(gkey)
            if g is None:
                g = rs.groups[gkey] = GroupState()
            b = t // slide
            g.add(s.index, b, value, t, rows.keys[i], rows.workspaces[i], rows.committed[i], amount)
            buckets.add(b)
            stats.matched += 1
            newest = t if newest is None or t > newest else newest
    out: list[Firing] = []
    for gkey, buckets in touched.items():
        group = dict(zip(rule.group_names, group_values[gkey]))
        g = rs.groups[gkey]
        if rule.kind == "threshold":
            out += _threshold_windows(rule, g, group, buckets)
        else:
            out += _sequence_windows(rule, g, group, buckets)
    if newest is not None:
        slides = {s.index: slide for s in rule.series}
        _advance(rs, batch, newest, lambda g, horizon: g.prune(slides, horizon),
                 (rule.lateness_s + rule.window_s) * US)
    return out


def _advance(rs: RuleState, batch: Batch, newest: int, prune, keep_us: int) -> None:
    """Move the rule's newest-seen time forward and prune what no future row can reach."""
    if rs.max_seen is not None and newest <= rs.max_seen:
        return
    batch.touch(rs, RULE_KEY)
    previous, rs.max_seen = rs.max_seen, newest
    horizon = newest - keep_us
    # Pruning touches (and logs) groups, so do it when the horizon crosses a minute, not every batch.
    if previous is not None and (previous - keep_us) // (60 * US) == horizon // (60 * US):
        return
    for gkey in list(rs.groups):
        g = rs.groups[gkey]
        newest_in_group = g.newest()
        if newest_in_group is not None and newest_in_group > horizon and not _has_old(g, horizon):
            continue
        batch.touch(rs, gkey)
        prune(g, horizon)
        if g.empty():
            del rs.groups[gkey]


def _has_old(g: GroupState, horizon: int) -> bool:
    return any(stat[4] <= horizon for buckets in g.series.values() for values in buckets.values()
               for stat in values.values()) or any(until <= horizon for _, until in g.fired)


def _aggregate(use: AggregateUse, g: GroupState, keep) -> float:
    if use.kind == "streak":
        return float(_streak(g.series.get(use.series[0], {}), g.series.get(use.series[1], {}), keep))
    if use.kind == "distinct" or use.kind == "distinct_except":
        sets = []
        for s in use.series:
            seen: set[str] = set()
            for b, values in g.series.get(s, {}).items():
                if keep(b):
                    seen.update(values)
            sets.append(seen)
        return float(len(sets[0] - sets[1]) if use.kind == "distinct_except" else len(sets[0]))
    total, top, count = 0.0, None, 0
    for b, values in g.series.get(use.series[0], {}).items():
        if keep(b):
            for stat in values.values():
                count += stat[0]
                total += stat[1]
                if stat[2] is not None and (top is None or stat[2] > top):
                    top = stat[2]
    return float(count) if use.kind == "count" else total if use.kind == "sum" else float(top or 0.0)


def _streak(counted: dict, reset: dict, keep) -> int:
    """Rows of ``counted`` after the last row of ``reset``, bucket by bucket (within a bucket, by time)."""
    streak = 0
    for b in sorted(set(counted) | set(reset)):
        if not keep(b):
            continue
        c = counted.get(b, {}).get("")
        r = reset.get(b, {}).get("")
        if r is None:
            streak += c[0] if c else 0
        elif c is not None and c[3] > r[4]:
            streak = c[0]  # every counted row came after the bucket's last reset
        elif c is not None and c[4] > r[4]:
            streak = 1
        else:
            streak = 0
    return streak


def _summarise(rule: CompiledRule, g: GroupState, series: list[int], keep) -> dict:
    evidence: list[str] = []
    first = last = committed = None
    workspace, workspace_at = None, None
    for s in series:
        for b in sorted(g.series.get(s, {})):
            if not keep(b):
                continue
            for stat in g.series[s][b].values():
                for k in stat[5]:
                    if len(evidence) < EVIDENCE_PER_ALERT and k not in evidence:
                        evidence.append(k)
                first = stat[3] if first is None else min(first, stat[3])
                last = stat[4] if last is None else max(last, stat[4])
                if stat[7] is not None and (committed is None or stat[7] > committed):
                    committed = stat[7]
                if stat[6] is not None and (workspace_at is None or stat[4] >= workspace_at):
                    workspace, workspace_at = stat[6], stat[4]
    return {"evidence": evidence, "first": first, "last": last, "committed": committed, "workspace": workspace}


def _workspace(group: dict, fallback: str | None) -> str | None:
    for name in WORKSPACE_NAMES:
        if name in group and group[name] is not None:
            return group[name]
    return fallback


def _threshold_windows(rule: CompiledRule, g: GroupState, group: dict, new: set[int]) -> list[Firing]:
    slide, size = rule.slide_s * US, rule.window_s * US
    span = size // slide
    lo, hi = min(new) - span + 1, max(new)
    starts = sorted({b for buckets in g.series.values() for b in buckets if lo <= b <= hi})
    having, uses = rule.havings[0], rule.uses[0]
    all_series = [s.index for s in rule.series]
    out = []
    if starts and having.monotone:
        # Every candidate window lies inside [first start, last start + span): if even that union fails,
        # none of them can pass, and one evaluation replaces one per candidate.
        union = (lambda x, lo=starts[0], hi=starts[-1] + span: lo <= x < hi)
        if not having.holds([_aggregate(u, g, union) for u in uses]):
            return out
    for b in starts:
        start, end = b * slide, b * slide + size
        if g.suppressed(start, end):
            continue
        keep = (lambda x, lo=b, hi=b + span: lo <= x < hi)
        values = [_aggregate(u, g, keep) for u in uses]
        if not having.holds(values):
            continue
        seen = _summarise(rule, g, all_series, keep)
        cost = _aggregate(rule.cost_use, g, keep) if rule.cost_use is not None else None
        g.fired.append([start, max(end, start + rule.suppress_s * US)])
        entity = group.get(rule.entity_field) if rule.entity_field else None
        out.append(Firing(rule, group, start, end, values[having.observed], having.expected, seen["evidence"],
                          _workspace(group, seen["workspace"]), seen["committed"], seen["first"], seen["last"],
                          entity, cost=cost))
    return out


def _sequence_windows(rule: CompiledRule, g: GroupState, group: dict, new: set[int]) -> list[Firing]:
    slide, within = rule.slide_s * US, rule.window_s * US
    steps = len(rule.havings)
    by_step = [[s.index for s in rule.series if s.part == k] for k in range(steps)]

    def buckets(k: int) -> list[tuple[int, int, int]]:
        """(bucket, first, last) of step k, in time order."""
        merged: dict[int, list[int]] = {}
        for s in by_step[k]:
            for b, values in g.series.get(s, {}).items():
                for stat in values.values():
                    cur = merged.setdefault(b, [stat[3], stat[4]])
                    cur[0], cur[1] = min(cur[0], stat[3]), max(cur[1], stat[4])
        return sorted((b, f, l) for b, (f, l) in merged.items())

    step_buckets = [buckets(k) for k in range(steps)]
    earliest_new = min(new) * slide - within
    out = []
    for b0, anchor, _ in step_buckets[0]:
        if (b0 + 1) * slide <= earliest_new:
            continue
        deadline = anchor + within
        if g.suppressed(anchor, deadline):
            continue
        previous = anchor - 1
        chosen_all: set[int] = set()
        values: list[float] = []
        complete = True
        for k in range(steps):
            chosen: set[int] = set()
            done = False
            for b, first, last in step_buckets[k]:
                if last <= previous or first > deadline or (k == 0 and b < b0):
                    continue
                chosen.add(b)
                keep = chosen.__contains__
                values = [_aggregate(u, g, keep) for u in rule.uses[k]]
                if rule.havings[k].holds(values):
                    previous = anchor if k == 0 else max(previous, last)
                    done = True
                    break
            if not done:
                complete = False
                break
            chosen_all |= {(k, b) for b in chosen}
        if not complete:
            continue
        keep_step = {}
        for k, b in chosen_all:
            keep_step.setdefault(k, set()).add(b)
        evidence: list[str] = []
        summary = {"first": None, "last": None, "committed": None, "workspace": None}
        for k in range(steps):
            part = _summarise(rule, g, by_step[k], keep_step.get(k, set()).__contains__)
            evidence += [e for e in part["evidence"] if e not in evidence][: EVIDENCE_PER_ALERT - len(evidence)]
            for key, pick in (("first", min), ("last", max), ("committed", max)):
                if part[key] is not None:
                    summary[key] = part[key] if summary[key] is None else pick(summary[key], part[key])
            summary["workspace"] = part["workspace"] or summary["workspace"]
        last_having = rule.havings[-1]
        g.fired.append([anchor, anchor + max(within, rule.suppress_s * US)])
        out.append(Firing(rule, group, anchor, deadline, values[last_having.observed], last_having.expected, evidence,
                          _workspace(group, summary["workspace"]), summary["committed"], summary["first"],
                          summary["last"], group.get(rule.entity_field) if rule.entity_field else None))
    return out
