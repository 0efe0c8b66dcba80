"""One Spark job per micro-batch: every rule of a source evaluated in a single projection.

For a source and its compiled rules, :class:`MatchPlan` projects the batch once: the event time, the
evidence key, the workspace and commit time, one bit per rule *series* packed into 64-bit masks, and
each distinct expression the rules need (group keys, summed or counted values, summary fields) exactly
once, however many rules share it. Rows that match nothing are filtered out in Spark; the small rest
is collected through Arrow and handed to the evaluators on the driver. This keeps the hot path at one
Spark job per batch instead of one per rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame

from lakesentinel.rules.compiler import CompiledRule
from lakesentinel.rules.logsources import LogSourceInfo

BITS_PER_MASK = 62  # stay clear of the sign bit
NO_TIME = -(2**62)  # a row without an event time; evaluators skip it
COMMIT_COLUMN = "_source_commit_timestamp"


@dataclass
class RulePlan:
    """Where one rule's inputs sit in the collected rows."""

    bits: dict[int, tuple[int, int]]  # series index -> (mask column, bit)
    groups: list[list[str]]  # per part, the column of each group-key expression
    values: dict[int, str]  # series index -> value column
    summary: dict[str, str]  # placeholder -> column
    cost: str | None = None
    entity: str | None = None
    time: str | None = None  # a rule reading another time column than the source's


@dataclass
class MatchPlan:
    source: LogSourceInfo
    rules: list[CompiledRule]
    passthrough: tuple[str, ...] = ()
    expressions: dict[str, str] = field(default_factory=dict)  # SQL -> column name
    plans: dict[str, RulePlan] = field(default_factory=dict)
    masks: int = 0
    _sql: tuple | None = field(default=None, repr=False)

    @classmethod
    def build(cls, source: LogSourceInfo, rules: list[CompiledRule], passthrough: tuple[str, ...] = ()) -> "MatchPlan":
        plan = cls(source, list(rules), tuple(passthrough))
        bit = 0
        for rule in plan.rules:
            bits = {}
            for s in rule.series:
                bits[s.index] = (bit // BITS_PER_MASK, bit % BITS_PER_MASK)
                bit += 1
            plan.plans[rule.id] = RulePlan(
                bits=bits,
                groups=[[plan._column(g.sql) for g in part] for part in rule.group_exprs],
                values={s.index: plan._column(s.value.sql) for s in rule.series if s.value is not None},
                summary={k: plan._column(v.sql) for k, v in rule.summary_fields.items()},
                cost=plan._column(rule.cost_expr.sql) if rule.cost_expr is not None else None,
                entity=plan._column(rule.entity_expr.sql) if rule.entity_expr is not None else None,
                time=None if rule.time.sql == plan.default_time_sql else plan._column(rule.time.sql),
            )
        plan.masks = (bit + BITS_PER_MASK - 1) // BITS_PER_MASK
        return plan

    @property
    def default_time_sql(self) -> str:
        return f"`{self.source.time_column}`"

    def _column(self, sql: str) -> str:
        if sql not in self.expressions:
            self.expressions[sql] = f"_e{len(self.expressions)}"
        return self.expressions[sql]

    def projection(self, df: DataFrame) -> DataFrame:
        """The batch reduced to the rows some rule matches, with what the evaluators read.

        One SQL statement, parsed and analysed once per batch: the inner query computes each distinct
        condition part once per row (the allow-list ten rules share is evaluated once) and keeps the
        rows where any series holds; the outer one packs the series bits and the values.
        """
        commit = COMMIT_COLUMN in df.columns
        key = (commit, tuple(df.columns))
        if self._sql is None or self._sql[0] != key:
            self._sql = (key, self._statement(commit))
        return df.sparkSession.sql(self._sql[1], batch=df)

    def _statement(self, commit: bool) -> str:
        atoms: dict[str, str] = {}
        terms: list[list[str]] = [[] for _ in range(self.masks)]
        conjunctions: list[str] = []
        for rule in self.rules:
            for s in rule.series:
                names = [atoms.setdefault(part.sql, f"_a{len(atoms)}") for part in s.flag.parts()]
                col_idx, bit = self.plans[rule.id].bits[s.index]
                terms[col_idx].append(f"CASE WHEN {' AND '.join(names)} THEN {1 << bit} ELSE 0 END")
                conjunctions.append("(" + " AND ".join(names) + ")")
        workspace = self.rules[0].workspace
        cols = [f"{self.default_time_sql} AS _t", f"{self.rules[0].key.sql} AS _k",
                f"CAST({workspace.sql if workspace is not None else 'NULL'} AS STRING) AS _ws",
                f"`{COMMIT_COLUMN}` AS _c" if commit else "CAST(NULL AS TIMESTAMP) AS _c"]
        cols += [f"CAST({' + '.join(t)} AS BIGINT) AS _m{m}" for m, t in enumerate(terms)]
        cols += [f"{sql} AS {name}" for sql, name in self.expressions.items()]
        cols += [f"`{p}`" for p in self.passthrough]
        inner = ", ".join(f"{sql} AS {name}" for sql, name in atoms.items())
        any_series = " OR ".join(dict.fromkeys(conjunctions))
        text = (f"SELECT {', '.join(cols)} FROM (SELECT *, {inner} FROM __batch__) AS matched "
                f"WHERE coalesce({any_series}, false)")
        # spark.sql formats its arguments with str.format: literal braces in rule values are doubled.
        return text.replace("{", "{{").replace("}", "}}").replace("__batch__", "{batch}")

    def collect(self, df: DataFrame) -> "MatchRows":
        return MatchRows.from_arrow(self, self.projection(df).toArrow())


@dataclass
class MatchRows:
    """Collected rows: times in microseconds, masks as integers, every other column as a list."""

    plan: MatchPlan
    n: int
    time: np.ndarray
    committed: list
    keys: list
    workspaces: list
    masks: list[np.ndarray]
    columns: dict[str, list]

    @classmethod
    def from_arrow(cls, plan: MatchPlan, table: pa.Table) -> "MatchRows":
        def micros(name: str) -> np.ndarray:
            col = table.column(name)
            if pa.types.is_timestamp(col.type):
                col = col.cast(pa.timestamp("us", tz=col.type.tz)).cast(pa.int64())
            return pc.fill_null(col, NO_TIME).to_numpy(zero_copy_only=False).astype(np.int64)

        times = micros("_t") if table.num_rows else np.zeros(0, dtype=np.int64)
        committed = table.column("_c").cast(pa.int64()).to_pylist() if table.num_rows else []
        masks = [np.asarray(table.column(f"_m{m}").to_numpy(zero_copy_only=False), dtype=np.int64)
                 for m in range(plan.masks)]
        names = list(plan.expressions.values()) + list(plan.passthrough)
        columns = {}
        for name in names:
            col = table.column(name)
            # Times travel as microseconds since the epoch, like the event time.
            columns[name] = micros(name).tolist() if pa.types.is_timestamp(col.type) and table.num_rows else col.to_pylist()
        return cls(plan, table.num_rows, times, committed, table.column("_k").to_pylist(),
                   table.column("_ws").to_pylist(), masks, columns)

    def times(self, rule_id: str) -> np.ndarray:
        column = self.plan.plans[rule_id].time
        if column is None:
            return self.time
        return np.asarray([NO_TIME if v is None else v for v in self.columns[column]], dtype=np.int64)

    def indices(self, rule_id: str, series: int) -> np.ndarray:
        col, bit = self.plan.plans[rule_id].bits[series]
        if not self.n:
            return np.zeros(0, dtype=np.int64)
        return np.nonzero(self.masks[col] & (1 << bit))[0]

    def subset(self, positions: np.ndarray) -> "MatchRows":
        """The same rows restricted to ``positions`` (rule tests split one collect by case and batch)."""
        take = positions.tolist()
        return MatchRows(self.plan, len(take), self.time[positions], [self.committed[i] for i in take],
                         [self.keys[i] for i in take], [self.workspaces[i] for i in take],
                         [m[positions] for m in self.masks],
                         {k: [v[i] for i in take] for k, v in self.columns.items()})
