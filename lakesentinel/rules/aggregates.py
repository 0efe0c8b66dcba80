"""Thresholds: a ``HAVING``-style predicate over aggregates of the rows in a window.

Aggregates are ``count(*)``, ``count(x)``, ``count(DISTINCT x)``, ``sum(x)`` and ``max(x)``, each with
an optional ``FILTER (WHERE <selection or expression>)``, plus ``count_distinct_except(x, a, b)``: the
number of distinct ``x`` among rows matching ``a`` that never appear among rows matching ``b`` (the
"written somewhere never read" half of the exfiltration pattern), and ``consecutive(a, b)``: rows
matching ``a`` since the last row matching ``b`` (failure streaks). Their row expressions are checked
like any other; the predicate around them is evaluated in Python by a small interpreter (no ``eval``).

Thresholds must grow with more rows (``>``/``>=`` on aggregates): windows are evaluated as rows
arrive, so "fewer than" would fire on the first row.

>>> from lakesentinel.rules.expressions import Scope
>>> from lakesentinel.rules.logsources import logsource
>>> h = compile_having("count(DISTINCT request_params.key) >= 10", Scope(logsource("access.audit").schema))
>>> [a.kind for a in h.aggregates], h.expected
(['distinct'], 10.0)
>>> h.holds([9]), h.holds([10])
(False, True)
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

from sqlglot import exp

from lakesentinel.rules.expressions import (
    Checked, ExpressionProblems, Problem, Scope, check, is_numeric, node_offset, parse, type_name,
)

_PLACEHOLDER = "__agg"
_CMP = {exp.GT: operator.gt, exp.GTE: operator.ge, exp.LT: operator.lt, exp.LTE: operator.le,
        exp.EQ: operator.eq, exp.NEQ: operator.ne}
_ARITH = {exp.Add: operator.add, exp.Sub: operator.sub, exp.Mul: operator.mul}


@dataclass(frozen=True)
class Aggregate:
    kind: str  # count | count_value | distinct | sum | max | distinct_except | streak
    value: Checked | None = None
    filter: Checked | None = None
    other: Checked | None = None  # distinct_except: rows whose values are excluded; streak: reset rows
    text: str = ""

    @property
    def key(self) -> str:
        parts = [self.kind] + [c.sql if c is not None else "" for c in (self.value, self.filter, self.other)]
        return "|".join(parts)


@dataclass
class Having:
    text: str
    tree: exp.Expression
    aggregates: list[Aggregate] = field(default_factory=list)
    observed: int = 0  # index of the aggregate reported as the alert's observed value
    expected: float | None = None
    _fn: object = field(default=None, repr=False, compare=False)

    def holds(self, values: list[float]) -> bool:
        if self._fn is None:
            self._fn = _compile(self.tree)
        return bool(self._fn(values))

    @property
    def monotone(self) -> bool:
        """True when more rows can only make it hold (counts, distinct counts and maxima above a value):
        then a window that fails cannot hide a smaller one that passes."""
        if any(a.kind not in ("count", "count_value", "distinct", "max") for a in self.aggregates):
            return False
        for cmp in self.tree.find_all(*_CMP):
            left = any(_is_placeholder(n) for n in cmp.this.walk())
            right = any(_is_placeholder(n) for n in cmp.expression.walk())
            if left == right or (left and not isinstance(cmp, (exp.GT, exp.GTE))) or \
                    (right and not isinstance(cmp, (exp.LT, exp.LTE))):
                return False
        return not any(isinstance(n, (exp.Not, exp.Neg, exp.Sub, exp.Div)) for n in self.tree.walk())


DEFAULT_STEP = "count(*) >= 1"


def compile_having(text: str, scope: Scope) -> Having:
    """Parse and check a threshold; raise ExpressionProblems listing every problem."""
    tree = parse(text)
    problems: list[Problem] = []
    aggregates: list[Aggregate] = []
    keys: dict[str, int] = {}

    def placeholder(agg: Aggregate) -> exp.Expression:
        if agg.key not in keys:
            keys[agg.key] = len(aggregates)
            aggregates.append(agg)
        return exp.column(f"{_PLACEHOLDER}{keys[agg.key]}")

    def row(node: exp.Expression, boolean: bool = False) -> Checked | None:
        try:
            return check(node, scope, boolean=boolean)
        except ExpressionProblems as exc:
            problems.extend(exc.problems)
            return None

    def convert(node: exp.Expression) -> exp.Expression:
        flt = None
        inner = node
        if isinstance(node, exp.Filter):
            inner = node.this
            where = node.expression
            cond = where.this if isinstance(where, exp.Where) else where
            flt = row(cond, boolean=True)
        text_of = node.sql(dialect="spark")
        if isinstance(inner, exp.Count):
            arg = inner.this
            if isinstance(arg, exp.Star):
                return placeholder(Aggregate("count", None, flt, text=text_of))
            if isinstance(arg, exp.Distinct):
                if len(arg.expressions) != 1:
                    problems.append(Problem("threshold", "count(DISTINCT ...) takes one expression",
                                            node_offset(node)))
                    return node
                return placeholder(Aggregate("distinct", row(arg.expressions[0]), flt, text=text_of))
            return placeholder(Aggregate("count_value", row(arg), flt, text=text_of))
        if isinstance(inner, (exp.Sum, exp.Max)):
            if isinstance(inner.this, exp.Distinct):
                problems.append(Problem("threshold", "DISTINCT is only supported in count(DISTINCT x)",
                                        node_offset(node)))
                return node
            value = row(inner.this)
            if value is not None and value.dtype is not None and not is_numeric(value.dtype):
                problems.append(Problem("type", f"{inner.key} needs numbers, but this is a {type_name(value.dtype)}",
                                        node_offset(inner.this)))
            kind = "sum" if isinstance(inner, exp.Sum) else "max"
            return placeholder(Aggregate(kind, value, flt, text=text_of))
        if isinstance(inner, exp.Anonymous) and inner.name.lower() == "count_distinct_except":
            args = inner.expressions
            if len(args) != 3 or flt is not None:
                problems.append(Problem("threshold", "count_distinct_except(value, rows, excluded_rows) takes "
                                                     "three arguments and no FILTER", node_offset(node)))
                return node
            return placeholder(Aggregate("distinct_except", row(args[0]), row(args[1], True), row(args[2], True),
                                         text=text_of))
        if isinstance(inner, exp.Anonymous) and inner.name.lower() == "consecutive":
            args = inner.expressions
            if len(args) != 2 or flt is not None:
                problems.append(Problem("threshold", "consecutive(rows, reset_rows) takes two conditions and no FILTER",
                                        node_offset(node)))
                return node
            return placeholder(Aggregate("streak", None, row(args[0], True), row(args[1], True), text=text_of))
        problems.append(Problem("threshold", f"unsupported aggregate `{text_of}`; use count(*), count(x), "
                                             "count(DISTINCT x), sum(x), max(x) or count_distinct_except",
                                node_offset(node)))
        return node

    def walk(node: exp.Expression) -> exp.Expression:
        if isinstance(node, (exp.Filter, exp.AggFunc)) or (
                isinstance(node, exp.Anonymous) and node.name.lower() in ("count_distinct_except", "consecutive")):
            return convert(node)
        if isinstance(node, exp.Literal) and not node.is_string:
            return node
        if isinstance(node, (exp.Boolean,)):
            return node
        if isinstance(node, (exp.Paren, exp.Not, exp.And, exp.Or, exp.Neg, exp.Div, *_CMP, *_ARITH)):
            for key, value in list(node.args.items()):
                if isinstance(value, exp.Expression):
                    node.set(key, walk(value))
            return node
        if isinstance(node, (exp.Column, exp.Identifier, exp.Dot)):
            problems.append(Problem("threshold", f"`{node.sql(dialect='spark')}` is outside an aggregate: a threshold "
                                                 "compares aggregates, e.g. count(*) > 1", node_offset(node)))
            return node
        problems.append(Problem("threshold", f"`{node.sql(dialect='spark')[:40]}` is not allowed in a threshold",
                                node_offset(node)))
        return node

    tree = walk(tree)
    if not aggregates and not problems:
        problems.append(Problem("threshold", "a threshold needs at least one aggregate, e.g. count(*) > 1", 0))
    having = Having(text, tree, aggregates)
    if not problems:
        _check_direction(tree, aggregates, problems)
        having.observed, having.expected = _observed(tree)
    if problems:
        raise ExpressionProblems(problems)
    return having


def _is_placeholder(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column) and node.name.startswith(_PLACEHOLDER)


def _index(node: exp.Expression) -> int:
    return int(node.name[len(_PLACEHOLDER):])


def _check_direction(tree: exp.Expression, aggregates: list[Aggregate], problems: list[Problem]) -> None:
    for cmp in tree.find_all(*_CMP):
        left_agg = any(_is_placeholder(n) for n in cmp.this.walk())
        right_agg = any(_is_placeholder(n) for n in cmp.expression.walk())
        if left_agg and right_agg:
            continue  # a ratio of aggregates (slow / all > 0.2) may go either way; it is evaluated as rows arrive
        shrinking = (left_agg and isinstance(cmp, (exp.LT, exp.LTE, exp.EQ))) or \
                    (right_agg and isinstance(cmp, (exp.GT, exp.GTE, exp.EQ)))
        if shrinking:
            problems.append(Problem("threshold", "thresholds must grow with more rows (aggregate > or >= value); "
                                                 "windows are checked as rows arrive", node_offset(cmp)))


def _observed(tree: exp.Expression) -> tuple[int, float | None]:
    first = next((n for n in tree.walk() if _is_placeholder(n)), None)
    index = _index(first) if first is not None else 0
    for cmp in tree.find_all(*_CMP):
        sides = (cmp.this, cmp.expression)
        for mine, other in (sides, sides[::-1]):
            if _is_placeholder(mine) and _index(mine) == index and isinstance(other, exp.Literal):
                return index, float(other.this)
    return index, None


def _compile(node: exp.Expression):
    """The predicate as nested Python closures (built once; evaluated for every candidate window)."""
    if _is_placeholder(node):
        i = _index(node)
        return lambda v: v[i]
    if isinstance(node, exp.Literal):
        x = float(node.this)
        return lambda v: x
    if isinstance(node, exp.Boolean):
        b = bool(node.this)
        return lambda v: b
    if isinstance(node, exp.Paren):
        return _compile(node.this)
    if isinstance(node, exp.Not):
        f = _compile(node.this)
        return lambda v: not f(v)
    if isinstance(node, exp.Neg):
        f = _compile(node.this)
        return lambda v: -f(v)
    left, right = _compile(node.this), _compile(node.expression)
    if isinstance(node, exp.And):
        return lambda v: left(v) and right(v)
    if isinstance(node, exp.Or):
        return lambda v: left(v) or right(v)
    if isinstance(node, exp.Div):
        return lambda v: (left(v) / right(v)) if right(v) else 0.0
    op = _CMP.get(type(node)) or _ARITH.get(type(node))
    if op is None:
        raise TypeError(f"cannot evaluate {node.key}")
    return lambda v: op(left(v), right(v))


def _evaluate(node: exp.Expression, values: list[float]):
    if _is_placeholder(node):
        return values[_index(node)]
    if isinstance(node, exp.Literal):
        return float(node.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Paren):
        return _evaluate(node.this, values)
    if isinstance(node, exp.Not):
        return not _evaluate(node.this, values)
    if isinstance(node, exp.And):
        return _evaluate(node.this, values) and _evaluate(node.expression, values)
    if isinstance(node, exp.Or):
        return _evaluate(node.this, values) or _evaluate(node.expression, values)
    if isinstance(node, exp.Neg):
        return -_evaluate(node.this, values)
    if isinstance(node, exp.Div):
        bottom = _evaluate(node.expression, values)
        return _evaluate(node.this, values) / bottom if bottom else 0.0
    op = _CMP.get(type(node)) or _ARITH.get(type(node))
    if op is None:
        raise TypeError(f"cannot evaluate {node.key}")
    return op(_evaluate(node.this, values), _evaluate(node.expression, values))
