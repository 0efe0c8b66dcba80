"""State of windowed and sequence rules: in memory for speed, logged to Delta for restarts.

Each rule keeps, per group key, per *series*, per time bucket, per distinct value, a small record:
``[count, sum, max, first_us, last_us, evidence_keys, workspace_id, committed_us]``, plus the spans it
has already fired for (suppression). That is all a sliding window or a sequence needs, and it is
bounded: buckets older than the rule's watermark minus its window are dropped.

Durability and replay: every micro-batch runs inside a :class:`Batch` (``query_id``, ``batch_id``).
Before a group is first changed in a batch its previous value is kept (the undo), and at the end the
changed groups are appended to ``plt_ops.rule_state`` in one write. When the same batch is evaluated
again (a crash between the state write and the checkpoint), the engine rolls the batch back first,
so the replay counts nothing twice and emits the same alerts with the same ids. After a restart the
log is folded back, keeping the last batch of each query apart so that it can still be rolled back.

>>> store = StateStore()
>>> batch = store.begin("q1", 0)
>>> rs = store.rule_state("r", "sig")
>>> batch.touch(rs, "g"); rs.groups["g"] = GroupState(); rs.groups["g"].add(0, 5, "", 1_000_000, "e1", "1", None, 0.0)
>>> store.commit(batch)
>>> again = store.begin("q1", 0)   # the same batch once more: rolled back first
>>> "g" in rs.groups, again.attempt
(False, 1)
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyarrow as pa

from lakesentinel.logs import get_logger

log = get_logger(__name__)

EVIDENCE_PER_BUCKET = 20
RULE_KEY = ""  # the group key under which a rule's own fields (max_seen) are logged
COMPACT_AFTER_ROWS = 50_000

STATE_COLUMNS = (
    ("query_id", "string"), ("batch_id", "bigint"), ("attempt", "int"), ("seq", "bigint"), ("rule_id", "string"),
    ("signature", "string"), ("group_key", "string"), ("state", "string"), ("written_at", "timestamp"),
)
_ARROW = pa.schema([("query_id", pa.string()), ("batch_id", pa.int64()), ("attempt", pa.int32()),
                    ("seq", pa.int64()), ("rule_id", pa.string()), ("signature", pa.string()),
                    ("group_key", pa.string()), ("state", pa.string()),
                    ("written_at", pa.timestamp("us", tz="UTC"))])


class GroupState:
    """One group's buckets and fired spans."""

    __slots__ = ("series", "fired")

    def __init__(self) -> None:
        self.series: dict[int, dict[int, dict[str, list]]] = {}
        self.fired: list[list[int]] = []  # [start_us, until_us]

    def add(self, series: int, bucket: int, value: str, t: int, key: str | None, ws: str | None,
            committed: int | None, amount: float | None) -> None:
        values = self.series.setdefault(series, {}).setdefault(bucket, {})
        stat = values.get(value)
        if stat is None:
            values[value] = [1, amount or 0.0, amount, t, t, [key] if key is not None else [], ws, committed]
            return
        stat[0] += 1
        if amount is not None:
            stat[1] += amount
            stat[2] = amount if stat[2] is None else max(stat[2], amount)
        stat[3] = min(stat[3], t)
        if t >= stat[4]:
            stat[4] = t
            stat[6] = ws if ws is not None else stat[6]
        if key is not None and len(stat[5]) < EVIDENCE_PER_BUCKET and key not in stat[5]:
            stat[5].append(key)
        if committed is not None and (stat[7] is None or committed > stat[7]):
            stat[7] = committed

    def suppressed(self, start: int, end: int) -> bool:
        return any(start < until and end > begin for begin, until in self.fired)

    def newest(self) -> int | None:
        lasts = [stat[4] for buckets in self.series.values() for values in buckets.values() for stat in values.values()]
        lasts += [until for _, until in self.fired]
        return max(lasts) if lasts else None

    def prune(self, series_slide: dict[int, int], horizon: int) -> None:
        """Drop buckets that end before ``horizon`` and spans that ended before it."""
        for s, buckets in self.series.items():
            slide = series_slide.get(s, 1)
            for b in [b for b in buckets if (b + 1) * slide <= horizon]:
                del buckets[b]
        self.series = {s: b for s, b in self.series.items() if b}
        self.fired = [span for span in self.fired if span[1] > horizon]

    def empty(self) -> bool:
        return not self.series and not self.fired

    def to_json(self) -> str:
        return json.dumps({"s": {str(s): {str(b): v for b, v in buckets.items()} for s, buckets in self.series.items()},
                           "f": self.fired}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "GroupState":
        data = json.loads(text)
        g = cls()
        g.series = {int(s): {int(b): v for b, v in buckets.items()} for s, buckets in data.get("s", {}).items()}
        g.fired = [list(x) for x in data.get("f", [])]
        return g


@dataclass
class RuleState:
    rule_id: str
    signature: str
    max_seen: int | None = None
    groups: dict[str, GroupState] = field(default_factory=dict)

    def snapshot(self, key: str) -> str | None:
        if key == RULE_KEY:
            return json.dumps({"max_seen": self.max_seen})
        g = self.groups.get(key)
        return g.to_json() if g is not None else None

    def restore(self, key: str, text: str | None) -> None:
        if key == RULE_KEY:
            self.max_seen = json.loads(text)["max_seen"] if text else None
        elif text is None:
            self.groups.pop(key, None)
        else:
            self.groups[key] = GroupState.from_json(text)


@dataclass
class Batch:
    """One micro-batch's changes: what each touched key held before (undo) and which keys changed."""

    query_id: str
    batch_id: int
    attempt: int = 0
    undo: dict[tuple[str, str], str | None] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)
    states: dict[str, RuleState] = field(default_factory=dict)

    def touch(self, rs: RuleState, key: str) -> None:
        """Call before changing ``rs.groups[key]`` (or the rule's own fields, key ``""``)."""
        k = (rs.rule_id, key)
        if k not in self.undo:
            self.undo[k] = rs.snapshot(key)
            self.signatures[rs.rule_id] = rs.signature
            self.states[rs.rule_id] = rs


class StateStore:
    """Rule states by rule id, with batch undo and an optional durable log."""

    def __init__(self, state_log: "StateLog | None" = None):
        self.rules: dict[str, RuleState] = {}
        self.log = state_log
        self._pending: dict[str, Batch] = {}  # per query: the last batch, kept for a replay
        self._lock = threading.Lock()
        self._rows_since_compaction = 0
        self._loaded: dict[str, tuple[str, dict[str, str | None]]] = {}
        if state_log is not None:
            self._load(state_log.read())

    # ---- rules ------------------------------------------------------------------------------
    def rule_state(self, rule_id: str, signature: str) -> RuleState:
        rs = self.rules.get(rule_id)
        if rs is not None and rs.signature == signature:
            return rs
        if rs is not None:
            log.warning("rule %s changed shape; its window state starts afresh", rule_id, extra={"rule_id": rule_id})
        rs = RuleState(rule_id, signature)
        loaded = self._loaded.pop(rule_id, None)
        if loaded is not None and loaded[0] == signature:
            for key, text in loaded[1].items():
                if text is not None:
                    rs.restore(key, text)
        self.rules[rule_id] = rs
        return rs

    # ---- batches ----------------------------------------------------------------------------
    def begin(self, query_id: str, batch_id: int) -> Batch:
        """Start a batch; if it is the last batch of ``query_id`` again, undo its effects first."""
        with self._lock:
            pending = self._pending.get(query_id)
            attempt = 0
            if pending is not None and pending.batch_id == batch_id:
                self._rollback(pending)
                attempt = pending.attempt + 1
                log.info("replaying batch %s of query %s: state rolled back", batch_id, query_id,
                         extra={"query_id": query_id, "batch_id": batch_id})
            elif pending is not None and batch_id < pending.batch_id:
                log.warning("batch %s of query %s arrives after batch %s; evaluating it without rollback",
                            batch_id, query_id, pending.batch_id)
            return Batch(query_id, batch_id, attempt)

    def _rollback(self, batch: Batch) -> None:
        for (rule_id, key), text in batch.undo.items():
            rs = self.rules.get(rule_id)
            if rs is not None:
                if rs.signature == batch.signatures.get(rule_id, rs.signature):
                    rs.restore(key, text)
                continue
            loaded = self._loaded.get(rule_id)  # not asked for since the restart: undo in the loaded copy
            if loaded is not None and loaded[0] == batch.signatures.get(rule_id):
                if text is None:
                    loaded[1].pop(key, None)
                else:
                    loaded[1][key] = text

    def commit(self, batch: Batch) -> None:
        """Log the batch's changed keys (one write) and keep the batch for a possible replay."""
        rows = []
        if batch.undo and self.log is not None:
            seq = time.time_ns()
            now = datetime.now(timezone.utc)
            for rule_id, key in batch.undo:
                rs = batch.states[rule_id]
                rows.append({"query_id": batch.query_id, "batch_id": batch.batch_id, "attempt": batch.attempt,
                             "seq": seq, "rule_id": rule_id, "signature": rs.signature, "group_key": key,
                             "state": rs.snapshot(key), "written_at": now})
        with self._lock:
            if rows:
                self.log.append(rows)
                self._rows_since_compaction += len(rows)
            self._pending[batch.query_id] = batch
            if self.log is not None and self._rows_since_compaction >= COMPACT_AFTER_ROWS:
                self._compact()

    # ---- the log ----------------------------------------------------------------------------
    def _load(self, rows: list[dict]) -> None:
        latest_attempt: dict[tuple[str, int], int] = {}
        for r in rows:
            k = (r["query_id"], r["batch_id"])
            latest_attempt[k] = max(latest_attempt.get(k, 0), r["attempt"] or 0)
        rows = [r for r in rows if (r["attempt"] or 0) == latest_attempt[(r["query_id"], r["batch_id"])]]
        rows.sort(key=lambda r: r["seq"])
        last: dict[str, int] = {}
        for r in rows:
            if r["query_id"] != SNAPSHOT_QUERY:
                last[r["query_id"]] = r["batch_id"] if r["query_id"] not in last else max(last[r["query_id"]], r["batch_id"])
        values: dict[str, tuple[str, dict[str, str | None]]] = {}
        for r in rows:
            sig, groups = values.setdefault(r["rule_id"], (r["signature"], {}))
            if sig != r["signature"]:  # the rule changed shape at some point: only the newest shape counts
                values[r["rule_id"]] = (r["signature"], {})
                sig, groups = values[r["rule_id"]]
            q = r["query_id"]
            if q in last and r["batch_id"] == last[q]:
                pending = self._pending.setdefault(q, Batch(q, r["batch_id"], r["attempt"] or 0))
                key = (r["rule_id"], r["group_key"])
                if key not in pending.undo:
                    pending.undo[key] = groups.get(r["group_key"])
                    pending.signatures[r["rule_id"]] = r["signature"]
            groups[r["group_key"]] = r["state"]
        self._loaded = {rule_id: (sig, {k: v for k, v in groups.items()}) for rule_id, (sig, groups) in values.items()}
        log.info("rule state loaded: %d rules, %d log rows", len(values), len(rows))

    def _compact(self) -> None:
        rows = []
        now = datetime.now(timezone.utc)
        pending_keys = {k: b for b in self._pending.values() for k in b.undo}
        for rs in self.rules.values():
            keys = set(rs.groups) | {RULE_KEY}
            for key in keys | {k[1] for k in pending_keys if k[0] == rs.rule_id}:
                batch = pending_keys.get((rs.rule_id, key))
                before = batch.undo[(rs.rule_id, key)] if batch is not None else rs.snapshot(key)
                if before is not None:
                    rows.append({"query_id": SNAPSHOT_QUERY, "batch_id": -1, "attempt": 0, "seq": 0,
                                 "rule_id": rs.rule_id, "signature": rs.signature, "group_key": key,
                                 "state": before, "written_at": now})
                if batch is not None:
                    rows.append({"query_id": batch.query_id, "batch_id": batch.batch_id, "attempt": batch.attempt,
                                 "seq": 1, "rule_id": rs.rule_id, "signature": rs.signature, "group_key": key,
                                 "state": rs.snapshot(key), "written_at": now})
        for rule_id, (signature, groups) in self._loaded.items():  # not asked for since the restart
            if rule_id not in self.rules:
                rows += [{"query_id": SNAPSHOT_QUERY, "batch_id": -1, "attempt": 0, "seq": 0, "rule_id": rule_id,
                          "signature": signature, "group_key": key, "state": text, "written_at": now}
                         for key, text in groups.items() if text is not None]
        self.log.overwrite(rows)
        self._rows_since_compaction = 0
        log.info("rule state log compacted to %d rows", len(rows))


SNAPSHOT_QUERY = "__snapshot__"


class StateLog:
    """The Delta table ``plt_ops.rule_state``: appended once per batch that changed any state.

    Tables with a storage location (the embedded lakehouse) are written with delta-rs, which commits in
    milliseconds without a Spark job; catalog-managed tables (Unity Catalog) go through Spark.
    """

    def __init__(self, spark, cfg):
        from lakesentinel.lakehouse import Lakehouse

        lh = Lakehouse(cfg)
        self.spark = spark
        self.name = lh.create_table(spark, lh.name("ops", "rule_state"), _ddl(),
                                    comment="lakesentinel rules engine: window and sequence state, one row per "
                                            "changed group per micro-batch")
        self.path = lh.location(self.name)
        self._lock = threading.Lock()

    def append(self, rows: list[dict]) -> None:
        self._write(rows, "append")

    def overwrite(self, rows: list[dict]) -> None:
        self._write(rows, "overwrite")

    def _write(self, rows: list[dict], mode: str) -> None:
        table = pa.Table.from_pylist(rows, schema=_ARROW)
        with self._lock:
            if self.path is not None:
                from deltalake import write_deltalake

                write_deltalake(self.path, table, mode=mode)
            else:
                from lakesentinel.sources.types import parse_columns

                df = self.spark.createDataFrame(table.to_pandas(), parse_columns(list(STATE_COLUMNS)))
                df.write.format("delta").mode(mode).saveAsTable(self.name)

    def read(self) -> list[dict]:
        if self.path is not None:
            from lakesentinel.deltars import read_arrow

            return read_arrow(self.path).to_pylist()
        return self.spark.table(self.name).toArrow().to_pylist()


def _ddl() -> str:
    return ", ".join(f"`{n}` {t.upper()}" for n, t in STATE_COLUMNS)
