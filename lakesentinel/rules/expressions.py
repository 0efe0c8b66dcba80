"""The safe SQL subset of rule expressions: parsed by sqlglot, checked against the source schema.

An expression may read the source's columns (nested struct fields and map keys with dots), the
source's aliases and, in conditions, the rule's selections; it may compare, combine, do arithmetic and
call the functions in :mod:`lakesentinel.rules.functions`. It may not select, read tables, call
anything else or aggregate (aggregates belong in ``threshold``). Checking also rewrites what would
raise at run time under ANSI SQL into its null-returning form (``CAST`` to ``TRY_CAST``, map and
array access to ``TRY_ELEMENT_AT``, arithmetic to ``TRY_ADD``...), so one odd row never stops a batch.

>>> from lakesentinel.rules.logsources import logsource
>>> scope = Scope(logsource("access.audit").schema)
>>> check("response.status_code IN (401, 403) AND request_params.user LIKE '%@x.com'", scope, boolean=True).sql
"`response`.`status_code` IN (401, 403) AND TRY_ELEMENT_AT(`request_params`, 'user') LIKE '%@x.com'"
>>> try:
...     check("user_identity.emial = 'a'", scope)
... except ExpressionProblems as exc:
...     print(exc.problems[0].message)
`user_identity` has no field `emial` (fields: email, subject_name)
"""

from __future__ import annotations

import difflib
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime

import sqlglot
from pyspark.sql import types as T
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakesentinel.rules import functions
from lakesentinel.rules.patterns import like_problems, regex_problems
from lakesentinel.sources.types import parse_type

BOOL = T.BooleanType()
STRING = T.StringType()
NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType, T.DecimalType)
TEMPORAL = (T.TimestampType, T.TimestampNTZType, T.DateType)

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_ARITHMETIC = {exp.Add: "try_add", exp.Sub: "try_subtract", exp.Mul: "try_multiply"}
_AGGREGATE_NODES = (exp.Count, exp.Sum, exp.Max, exp.Min, exp.Avg, exp.Filter, exp.AggFunc)
_REFUSED = {
    exp.Select: "subqueries", exp.Subquery: "subqueries", exp.Table: "table access", exp.Star: "`*`",
    exp.Window: "window functions", exp.Placeholder: "parameters", exp.Command: "commands",
}
# The node types an expression may hold, each with the method of _Checker that checks it (every
# argument of a node must be checked or knowingly set aside, see _Checker.visit); any other type
# is refused by name (``classify``).
_HANDLERS: dict[type, str] = {
    exp.Paren: "paren", exp.Column: "reference", exp.Dot: "reference", exp.Identifier: "reference",
    exp.Bracket: "bracket", exp.Literal: "literal", exp.Boolean: "boolean_literal", exp.Null: "null",
    exp.Var: "var", exp.Lambda: "lambda_outside", exp.And: "connective", exp.Or: "connective",
    exp.Not: "negation", **{c: "comparison" for c in _COMPARISONS}, exp.Is: "is_", exp.In: "in_",
    exp.Between: "between", exp.Like: "pattern_match", exp.ILike: "pattern_match",
    exp.RegexpLike: "pattern_match", exp.RegexpILike: "pattern_match",
    **{c: "arithmetic" for c in (*_ARITHMETIC, exp.Div, exp.Mod, exp.Neg)},
    exp.Case: "case", exp.If: "if_", exp.Cast: "cast", exp.TryCast: "cast", exp.Anonymous: "anonymous",
}

# Caps that keep checking (and Spark's own parser) well inside Python's recursion limit and in
# bounded time: sqlglot's parser recurses about fifteen frames per parenthesis.
MAX_EXPRESSION_CHARS = 4000
MAX_NESTING = 24  # parentheses and brackets inside one another
MAX_DEPTH = 100  # levels of the parsed tree (a chain of 100 ORs is 100 deep)
MAX_NODES = 3000


def classify(kind: type) -> tuple[str, str]:
    """("allowed", the checker's method) or ("refused", why) for any sqlglot expression type."""
    if kind in _HANDLERS:
        return "allowed", _HANDLERS[kind]
    if functions.lookup(kind) is not None:
        return "allowed", "function"
    for refused, what in _REFUSED.items():
        if issubclass(kind, refused):
            return "refused", f"{what} are not allowed in a rule expression"
    if issubclass(kind, _AGGREGATE_NODES):
        return "refused", "aggregates (count, sum, ...) belong in `threshold`, not in a row expression"
    if issubclass(kind, exp.Func):
        return "refused", f"function {kind.__name__} is not allowed in rules"
    return "refused", f"{kind.key} is not allowed in a rule expression"


@dataclass
class Problem:
    code: str
    message: str
    offset: int | None = None  # character offset into the expression text


class ExpressionProblems(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


@dataclass
class Checked:
    """An expression that passed the checks, rewritten into the Spark SQL that will run."""

    ast: exp.Expression
    dtype: T.DataType | None
    reads: set[str] = field(default_factory=set)
    conjuncts: tuple["Checked", ...] = ()  # when this is an AND of checked parts, the parts (for sharing)

    @property
    def sql(self) -> str:
        return self.ast.sql(dialect="spark")

    def parts(self) -> tuple["Checked", ...]:
        return self.conjuncts or (self,)


@dataclass
class Scope:
    """Names an expression may use: columns of ``schema``, then ``aliases``, then ``selections``."""

    schema: T.StructType
    aliases: dict[str, Checked] = field(default_factory=dict)
    selections: dict[str, Checked] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [f.name for f in self.schema.fields] + list(self.aliases) + list(self.selections)


def parse(text: str) -> exp.Expression:
    """Parse one SQL expression; ExpressionProblems on a syntax error (with its offset) or one too big."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionProblems([Problem("syntax", "expected an SQL expression, got an empty value", 0)])
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionProblems([Problem("too-large", f"the expression is {len(text):,} characters long (at most "
                                                       f"{MAX_EXPRESSION_CHARS:,}): split it into fields", 0)])
    nesting, offset = _nesting(text)
    if nesting > MAX_NESTING:
        raise ExpressionProblems([Problem("too-deep", f"parentheses nest more than {MAX_NESTING} deep: split the "
                                                      "expression into fields or selections", offset)])
    try:
        trees = sqlglot.parse(text, read="spark")
    except ParseError as exc:
        problems = []
        for err in exc.errors or [{}]:
            offset = _offset_of(text, err.get("line"), err.get("col"))
            desc = err.get("description") or str(exc)
            near = err.get("highlight")
            problems.append(Problem("syntax", f"syntax error: {desc}" + (f" near {near!r}" if near else ""), offset))
        raise ExpressionProblems(problems) from None
    except TokenError as exc:
        raise ExpressionProblems([Problem("syntax", f"syntax error: {exc}", 0)]) from None
    except RecursionError:
        raise ExpressionProblems([Problem("too-deep", "the expression nests too deeply to check", 0)]) from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise ExpressionProblems([Problem("syntax", "expected one expression, found several statements", 0)])
    depth, nodes = tree_size(trees[0])
    if depth > MAX_DEPTH or nodes > MAX_NODES:
        raise ExpressionProblems([Problem("too-large", f"the expression is {depth} levels deep with {nodes} parts "
                                                       f"(at most {MAX_DEPTH} levels and {MAX_NODES} parts): use "
                                                       "IN (...) for lists of values, or split it into fields", 0)])
    return trees[0]


def _nesting(text: str) -> tuple[int, int]:
    """Deepest nesting of ( and [ outside quotes, and where it first got that deep."""
    deepest, at, depth, quote = 0, 0, 0, ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch in "([":
            depth += 1
            if depth > deepest:
                deepest, at = depth, i
        elif ch in ")]":
            depth -= 1
    return deepest, at


def tree_size(tree: exp.Expression) -> tuple[int, int]:
    """Depth and node count of a tree, without recursion."""
    deepest, count, stack = 0, 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return deepest, count


def _offset_of(text: str, line: int | None, col: int | None) -> int | None:
    if not line or not col:
        return None
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + max(0, col - 1)


def node_offset(node: exp.Expression) -> int | None:
    """Start offset of a node in its source text, from sqlglot's token positions."""
    starts = [n.meta["start"] for n in node.walk() if isinstance(n, exp.Expression) and "start" in (n.meta or {})]
    return min(starts) if starts else None


def type_name(dt: T.DataType | None) -> str:
    return "unknown" if dt is None else dt.simpleString()


def is_numeric(dt: T.DataType | None) -> bool:
    return isinstance(dt, NUMERIC)


def is_boolean(dt: T.DataType | None) -> bool:
    return dt is None or isinstance(dt, (T.BooleanType, T.NullType))


def spark_type(dt: exp.DataType) -> T.DataType | None:
    try:
        return parse_type(dt.sql(dialect="spark").lower())
    except ValueError:
        return None


def check(source: str | exp.Expression, scope: Scope, *, boolean: bool = False) -> Checked:
    """Check (and rewrite) one row-level expression; raise ExpressionProblems listing every problem."""
    tree = parse(source) if isinstance(source, str) else source
    depth, nodes = tree_size(tree)
    if depth > MAX_DEPTH or nodes > MAX_NODES:
        raise ExpressionProblems([Problem("too-large", f"the expression is {depth} levels deep with {nodes} parts "
                                                       f"(at most {MAX_DEPTH} and {MAX_NODES})", 0)])
    tree = tree.copy()
    checker = _Checker(scope)
    try:
        tree, dtype = checker.visit(tree)
    except RecursionError:
        raise ExpressionProblems([Problem("too-deep", "the expression nests too deeply to check", 0)]) from None
    if boolean and not is_boolean(dtype) and not checker.problems:
        checker.problem("not-boolean", f"must be true or false, but this is a {type_name(dtype)}", tree)
    if checker.problems:
        raise ExpressionProblems(checker.problems)
    return Checked(tree, dtype, checker.reads)


def cidr_sql(ip: exp.Expression, cidr: str) -> exp.Expression:
    """``ip`` (IPv4 text, a port suffix ignored) falls in ``cidr``, as a plain SQL expression."""
    net = ipaddress.ip_network(cidr, strict=False)
    pattern = exp.Literal.string(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})")
    octets = [exp.TryCast(this=exp.RegexpExtract(this=ip.copy(), expression=pattern.copy(),
                                                 group=exp.Literal.number(k)),
                          to=exp.DataType.build("bigint"), safe=True) for k in range(1, 5)]
    number: exp.Expression = octets[0]
    for octet in octets[1:]:
        number = exp.Add(this=exp.Mul(this=exp.Paren(this=number), expression=exp.Literal.number(256)),
                         expression=octet)
    low, high = int(net.network_address), int(net.broadcast_address)
    return exp.Paren(this=exp.Between(this=number, low=exp.Literal.number(low), high=exp.Literal.number(high)))


class _Checker:
    def __init__(self, scope: Scope):
        self.scope = scope
        self.problems: list[Problem] = []
        self.reads: set[str] = set()
        self.lambdas: dict[str, T.DataType | None] = {}
        self.seen: set[int] = set()  # ids of the nodes checked or knowingly set aside
        self.depth = 0

    def problem(self, code: str, message: str, node: exp.Expression | None) -> None:
        self.problems.append(Problem(code, message, node_offset(node) if node is not None else None))

    # ---- dispatch ---------------------------------------------------------------------------
    def visit(self, node: exp.Expression) -> tuple[exp.Expression, T.DataType | None]:
        self.seen.add(id(node))
        self.depth += 1
        try:
            start = node_offset(node)
            children = list(node.iter_expressions())
            new, dt = self._visit(node)
            # Complete by construction: a part of the node that its handler neither checked nor
            # knowingly set aside is refused, so a handler that forgets an argument cannot open a hole.
            for child in children:
                if id(child) not in self.seen:
                    self.seen.add(id(child))
                    self.problem("refused", f"`{_shown(child)}` ({child.key}) inside {node.key} is not allowed "
                                            "in a rule expression", child)
            if new is not node and start is not None and "start" not in (new.meta or {}):
                new.meta["start"] = start  # errors found later (comparisons) still point at the text
            return new, dt
        finally:
            self.depth -= 1

    def inert(self, node: exp.Expression) -> None:
        """Set aside a part that holds no expression to check (a cast's type, a date unit, a lambda's names)."""
        self.seen.update(id(n) for n in node.walk())

    def _visit(self, node: exp.Expression) -> tuple[exp.Expression, T.DataType | None]:
        verdict, how = classify(type(node))
        if verdict == "refused":
            code = "aggregate" if how.startswith("aggregates") else \
                "function" if how.startswith("function") else "refused"
            if code == "function":
                how = (f"function `{_function_name(node)}` is not allowed in rules (allowed: "
                       f"{', '.join(functions.names())})")
            elif code == "refused":
                how = f"{how} (`{_shown(node)}`)"
            self.problem(code, how, node)
            self.inert(node)
            return node, None
        return getattr(self, how)(node)

    # ---- leaves and simple nodes ------------------------------------------------------------
    def paren(self, node: exp.Paren) -> tuple[exp.Expression, T.DataType | None]:
        inner, dt = self.visit(node.this)
        node.set("this", inner)
        return node, dt

    def literal(self, node: exp.Literal) -> tuple[exp.Expression, T.DataType | None]:
        if node.is_string:
            return node, STRING
        return node, T.DoubleType() if any(c in node.this for c in ".eE") else T.LongType()

    def boolean_literal(self, node: exp.Boolean) -> tuple[exp.Expression, T.DataType | None]:
        return node, BOOL

    def null(self, node: exp.Null) -> tuple[exp.Expression, T.DataType | None]:
        return node, T.NullType()

    def var(self, node: exp.Var) -> tuple[exp.Expression, T.DataType | None]:
        self.problem("unknown-name", f"unknown name `{node.name}`", node)
        return node, None

    def lambda_outside(self, node: exp.Lambda) -> tuple[exp.Expression, T.DataType | None]:
        self.problem("refused", "a lambda (x -> ...) is only allowed as the second argument of "
                                "exists, forall, filter or transform", node)
        self.inert(node)
        return node, None

    def connective(self, node: exp.Expression) -> tuple[exp.Expression, T.DataType | None]:
        for key in ("this", "expression"):
            child, dt = self.visit(node.args[key])
            node.set(key, child)
            self.expect_boolean(dt, child, f"both sides of {node.key.upper()}")
        return node, BOOL

    def negation(self, node: exp.Not) -> tuple[exp.Expression, T.DataType | None]:
        child, dt = self.visit(node.this)
        node.set("this", child)
        self.expect_boolean(dt, child, "NOT")
        return node, BOOL

    def comparison(self, node: exp.Expression) -> tuple[exp.Expression, T.DataType | None]:
        left, lt = self.visit(node.this)
        right, rt = self.visit(node.expression)
        node.set("this", left)
        node.set("expression", right)
        self.comparable(left, lt, right, rt)
        return node, BOOL

    def is_(self, node: exp.Is) -> tuple[exp.Expression, T.DataType | None]:
        child, _ = self.visit(node.this)
        node.set("this", child)
        right = node.expression
        if not isinstance(right, (exp.Null, exp.Boolean)):
            self.problem("refused", "IS takes NULL, TRUE or FALSE on its right side", right)
            self.inert(right)
            return node, BOOL
        self.visit(right)
        return node, BOOL

    def in_(self, node: exp.In) -> tuple[exp.Expression, T.DataType | None]:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            self.problem("refused", "IN takes a list of values, not a subquery", node)
            self.inert(node)
            return node, BOOL
        left, lt = self.visit(node.this)
        node.set("this", left)
        values = []
        for value in node.expressions:
            v, vt = self.visit(value)
            self.comparable(left, lt, v, vt)
            values.append(v)
        node.set("expressions", values)
        return node, BOOL

    def between(self, node: exp.Between) -> tuple[exp.Expression, T.DataType | None]:
        left, lt = self.visit(node.this)
        node.set("this", left)
        for key in ("low", "high"):
            v, vt = self.visit(node.args[key])
            node.set(key, v)
            self.comparable(left, lt, v, vt)
        return node, BOOL

    def pattern_match(self, node: exp.Expression) -> tuple[exp.Expression, T.DataType | None]:
        left, lt = self.visit(node.this)
        right, rt = self.visit(node.expression)
        node.set("this", left)
        node.set("expression", right)
        for side, dt in ((left, lt), (right, rt)):
            if dt is not None and not isinstance(dt, (T.StringType, T.NullType)):
                self.problem("type", f"pattern matching needs text, but this is a {type_name(dt)}", side)
        is_like = isinstance(node, (exp.Like, exp.ILike))
        self.literal_pattern(right, "like" if is_like else "regex", "LIKE" if is_like else "RLIKE")
        return node, BOOL

    def literal_pattern(self, node: exp.Expression, kind: str, where: str) -> None:
        """A pattern must be literal text that passes the safety checks (it runs on every row)."""
        if not (isinstance(node, exp.Literal) and node.is_string):
            self.problem("pattern", f"the pattern of {where} must be literal text, so that it can be checked", node)
            return
        found = regex_problems(node.this) if kind == "regex" else like_problems(node.this)
        for message in found:
            self.problem("pattern", f"{where} pattern {node.this[:60]!r}: {message}", node)

    def if_(self, node: exp.If) -> tuple[exp.Expression, T.DataType | None]:
        cond, ct = self.visit(node.this)
        node.set("this", cond)
        self.expect_boolean(ct, cond, "IF's condition")
        types = []
        for key in ("true", "false"):
            if node.args.get(key) is not None:
                v, vt = self.visit(node.args[key])
                node.set(key, v)
                types.append(vt)
        return node, functions._first(types)

    def cast(self, node: exp.Cast) -> tuple[exp.Expression, T.DataType | None]:
        child, _ = self.visit(node.this)
        to = node.args["to"]
        self.inert(to)
        for key, value in node.args.items():
            if key not in ("this", "to", "safe") and isinstance(value, exp.Expression):
                self.problem("refused", f"CAST ... {key.upper()} is not allowed in a rule expression", value)
                self.inert(value)
        target = spark_type(to)
        if target is None:
            self.problem("type", f"cannot cast to {to.sql(dialect='spark')}", node)
        return exp.TryCast(this=child, to=to, safe=True), target

    def anonymous(self, node: exp.Anonymous) -> tuple[exp.Expression, T.DataType | None]:
        if node.name.lower() == "cidr_match":
            return self.cidr(node)
        return self.function(node)

    def expect_boolean(self, dt: T.DataType | None, node: exp.Expression, where: str) -> None:
        if not is_boolean(dt):
            self.problem("not-boolean", f"{where} must be true or false, but this is a {type_name(dt)}", node)

    # ---- names ------------------------------------------------------------------------------
    def reference(self, node: exp.Expression) -> tuple[exp.Expression, T.DataType | None]:
        parts = _parts(node)
        if parts is None:
            self.problem("refused", f"unsupported reference `{_shown(node)}`", node)
            self.inert(node)
            return node, None
        self.inert(node)  # a name: nothing inside it runs
        head, rest = parts[0], parts[1:]
        if head in self.lambdas:
            base: exp.Expression = exp.to_identifier(head)
            dt = self.lambdas[head]
            return self.walk_fields(base, dt, head, rest, node)
        if not rest and head in self.scope.selections:
            chosen = self.scope.selections[head]
            self.reads |= chosen.reads
            return exp.Paren(this=chosen.ast.copy()), BOOL
        if head in self.scope.aliases and not _is_column(self.scope.schema, head):
            alias = self.scope.aliases[head]
            self.reads |= alias.reads
            if rest:
                return self.walk_fields(exp.Paren(this=alias.ast.copy()), alias.dtype, head, rest, node)
            return exp.Paren(this=alias.ast.copy()), alias.dtype
        fields = {f.name: f for f in self.scope.schema.fields}
        if head not in fields:
            self.problem("unknown-column", f"unknown column `{head}`{_suggest(head, self.scope.names())}", node)
            return node, None
        base = exp.Column(this=exp.to_identifier(head, quoted=True))
        return self.walk_fields(base, fields[head].dataType, head, rest, node)

    def walk_fields(self, base: exp.Expression, dt: T.DataType | None, path: str, rest: list[str],
                    node: exp.Expression) -> tuple[exp.Expression, T.DataType | None]:
        for part in rest:
            if isinstance(dt, T.StructType):
                names = [f.name for f in dt.fields]
                if part not in names:
                    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
                    self.problem("unknown-field", f"`{path}` has no field `{part}` (fields: {shown})", node)
                    return node, None
                base = exp.Dot(this=base, expression=exp.to_identifier(part, quoted=True))
                dt = dt[part].dataType
            elif isinstance(dt, T.MapType):
                if not isinstance(dt.keyType, T.StringType):
                    self.problem("type", f"`{path}` is a map with {type_name(dt.keyType)} keys; use {path}[key]", node)
                    return node, None
                base = exp.Bracket(this=base, expressions=[exp.Literal.string(part)], safe=True, offset=1)
                dt = dt.valueType
            elif dt is None:
                base = exp.Dot(this=base, expression=exp.to_identifier(part, quoted=True))
            else:
                self.problem("unknown-field", f"`{path}` is a {type_name(dt)}; it has no field `{part}`", node)
                return node, None
            path = f"{path}.{part}"
        if not path.split(".")[0] in self.lambdas:
            self.reads.add(path)
        return base, dt

    def bracket(self, node: exp.Bracket) -> tuple[exp.Expression, T.DataType | None]:
        base, dt = self.visit(node.this)
        if len(node.expressions) != 1:
            self.problem("syntax", "use one key or index inside [ ]", node)
            self.inert(node)
            return node, None
        key, kt = self.visit(node.expressions[0])
        if isinstance(dt, T.MapType):
            if kt is not None and isinstance(dt.keyType, T.StringType) and not isinstance(kt, (T.StringType, T.NullType)):
                self.problem("type", f"map keys are text, but this key is a {type_name(kt)}", key)
            return exp.Bracket(this=base, expressions=[key], safe=True, offset=1), dt.valueType
        if isinstance(dt, T.ArrayType):
            if kt is not None and not isinstance(kt, (T.IntegerType, T.LongType, T.ShortType, T.ByteType)):
                self.problem("type", f"array indexes are whole numbers, but this is a {type_name(kt)}", key)
            if not node.args.get("offset"):  # x[0] is 0-based; element_at is 1-based
                key = exp.Add(this=key, expression=exp.Literal.number(1))
            return exp.Bracket(this=base, expressions=[key], safe=True, offset=1), dt.elementType
        if dt is not None:
            self.problem("type", f"[ ] needs a map or an array, but this is a {type_name(dt)}", node)
        return node, None

    # ---- operators --------------------------------------------------------------------------
    def comparable(self, left: exp.Expression, lt: T.DataType | None, right: exp.Expression,
                   rt: T.DataType | None) -> None:
        if lt is None or rt is None or isinstance(lt, T.NullType) or isinstance(rt, T.NullType):
            return
        if (is_numeric(lt) and is_numeric(rt)) or type(lt) is type(rt):
            return
        if isinstance(lt, TEMPORAL) and isinstance(rt, TEMPORAL):
            return
        for t, other, other_node in ((lt, rt, right), (rt, lt, left)):
            if isinstance(t, TEMPORAL) and isinstance(other, T.StringType):
                if isinstance(other_node, exp.Literal) and _parses_as_time(other_node.this):
                    return
                self.problem("type", f"compares a {type_name(t)} with text that is not an ISO date or time", other_node)
                return
        for t, other, other_node, node in ((lt, rt, right, left), (rt, lt, left, right)):
            if is_numeric(t) and isinstance(other, T.StringType):
                if isinstance(other_node, exp.Literal):
                    hint = f"; write {other_node.this} without quotes" if _is_number(other_node.this) else ""
                    self.problem("type", f"compares a number ({type_name(t)}) with text{hint}", other_node)
                elif isinstance(node, exp.Literal):
                    self.problem("type", f"compares text with a number; quote it: '{node.this}'", node)
                else:
                    self.problem("type", f"compares a number ({type_name(t)}) with text", right)
                return
        self.problem("type", f"cannot compare a {type_name(lt)} with a {type_name(rt)}", right)

    def arithmetic(self, node: exp.Expression) -> tuple[exp.Expression, T.DataType | None]:
        keys = ("this",) if isinstance(node, exp.Neg) else ("this", "expression")
        types, children = [], []
        for key in keys:
            child, dt = self.visit(node.args[key])
            if dt is not None and not is_numeric(dt) and not isinstance(dt, T.NullType):
                self.problem("type", f"arithmetic needs numbers, but this is a {type_name(dt)}", child)
            types.append(dt)
            children.append(child)
        if isinstance(node, exp.Neg):
            node.set("this", children[0])
            return node, types[0]
        if isinstance(node, exp.Div):
            return exp.SafeDivide(this=children[0], expression=children[1]), T.DoubleType()
        if isinstance(node, exp.Mod):
            return exp.Anonymous(this="try_mod", expressions=children), functions._first(types)
        result = T.DoubleType() if any(isinstance(t, (T.DoubleType, T.FloatType)) for t in types) else \
            functions._first(types)
        return exp.Anonymous(this=_ARITHMETIC[type(node)], expressions=children), result

    def case(self, node: exp.Case) -> tuple[exp.Expression, T.DataType | None]:
        types = []
        if node.this is not None:
            subject, _ = self.visit(node.this)
            node.set("this", subject)
        ifs = []
        for branch in node.args.get("ifs") or []:
            self.seen.add(id(branch))
            extra = [k for k, v in branch.args.items() if k not in ("this", "true") and isinstance(v, exp.Expression)]
            if extra:
                self.problem("refused", "a WHEN branch holds only a condition and a value", branch)
                self.inert(branch)
                continue
            cond, ct = self.visit(branch.this)
            if node.this is None:
                self.expect_boolean(ct, cond, "WHEN")
            value, vt = self.visit(branch.args["true"])
            branch.set("this", cond)
            branch.set("true", value)
            types.append(vt)
            ifs.append(branch)
        node.set("ifs", ifs)
        if node.args.get("default") is not None:
            default, dt = self.visit(node.args["default"])
            node.set("default", default)
            types.append(dt)
        return node, functions._first(types)

    # ---- functions --------------------------------------------------------------------------
    def function(self, node: exp.Expression) -> tuple[exp.Expression, T.DataType | None]:
        spec = functions.lookup(node.name.lower() if isinstance(node, exp.Anonymous) else type(node))
        if isinstance(node, exp.Anonymous):
            shown = node.name.lower()
        else:
            shown = node.sql_name().lower() if isinstance(node, exp.Func) else node.key
        if spec is None:
            self.problem("function", f"function `{shown}` is not allowed in rules (allowed: "
                                     f"{', '.join(functions.names())})", node)
            self.inert(node)
            return node, None
        args = _arguments(node)
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            want = str(spec.min_args) if spec.min_args == spec.max_args else \
                f"{spec.min_args} to {spec.max_args}" if spec.max_args else f"at least {spec.min_args}"
            self.problem("arguments", f"{spec.name} takes {want} argument(s), got {len(args)}", node)
            self.inert(node)
            return node, None
        lambdas = [v for v in node.args.values() if isinstance(v, exp.Lambda)]
        if lambdas and not spec.lambda_arg:
            self.problem("refused", f"{spec.name} takes no lambda (x -> ...); lambdas are only allowed in "
                                    "exists, forall, filter and transform", lambdas[0])
            self.inert(node)
            return node, None
        if isinstance(node, (exp.RegexpExtract, exp.RegexpSplit)):
            self.literal_pattern(node.expression, "regex", spec.name)
        types: list[T.DataType | None] = []
        for key, value in list(node.args.items()):
            if isinstance(value, exp.Lambda):
                continue
            if isinstance(value, exp.Var) and isinstance(node, exp.TimestampTrunc) and key == "unit":
                self.inert(value)  # the unit of date_trunc
                continue
            if isinstance(value, exp.DataType):
                self.inert(value)
                continue
            if isinstance(value, exp.Expression):
                child, dt = self.visit(value)
                node.set(key, child)
                types.append(dt)
            elif isinstance(value, list):
                visited = []
                for item in value:
                    child, dt = self.visit(item)
                    visited.append(child)
                    types.append(dt)
                node.set(key, visited)
        if spec.lambda_arg:
            lam = next((v for v in node.args.values() if isinstance(v, exp.Lambda)), None)
            if lam is None:
                self.problem("arguments", f"{spec.name} takes an array and a lambda (x -> ...)", node)
                return node, None
            element = types[0].elementType if types and isinstance(types[0], T.ArrayType) else None
            if types and types[0] is not None and element is None:
                self.problem("type", f"{spec.name} needs an array, but this is a {type_name(types[0])}", node)
            self.seen.add(id(lam))
            for name in lam.expressions:
                self.inert(name)
            names = [v.name for v in lam.expressions]
            saved = dict(self.lambdas)
            self.lambdas.update({n: element for n in names})
            body, bt = self.visit(lam.this)
            self.lambdas = saved
            lam.set("this", body)
            if spec.name in ("exists", "forall", "filter"):
                self.expect_boolean(bt, body, f"the lambda of {spec.name}")
            if spec.name == "transform":
                return node, T.ArrayType(bt) if bt is not None else None
        return node, spec.returns(types)

    def cidr(self, node: exp.Anonymous) -> tuple[exp.Expression, T.DataType | None]:
        args = node.expressions
        if len(args) != 2 or not (isinstance(args[1], exp.Literal) and args[1].is_string):
            self.problem("arguments", "cidr_match takes an address and a CIDR text, e.g. cidr_match(ip, '10.0.0.0/8')",
                         node)
            self.inert(node)
            return node, None
        ip, dt = self.visit(args[0])
        self.inert(args[1])
        if dt is not None and not isinstance(dt, T.StringType):
            self.problem("type", f"cidr_match needs an address as text, but this is a {type_name(dt)}", ip)
        try:
            if ipaddress.ip_network(args[1].this, strict=False).version != 4:
                raise ValueError("only IPv4 ranges are supported")
        except ValueError as exc:
            self.problem("value", f"not an IPv4 CIDR range: {args[1].this!r} ({exc})", args[1])
            return node, BOOL
        return cidr_sql(ip, args[1].this), BOOL


def _parts(node: exp.Expression) -> list[str] | None:
    if isinstance(node, exp.Identifier):
        return [node.name]
    if isinstance(node, exp.Column):
        return [p.name for p in node.parts]
    if isinstance(node, exp.Dot):
        left = _parts(node.this)
        right = node.expression
        if left is None or not isinstance(right, exp.Identifier):
            return None
        return left + [right.name]
    return None


def _shown(node: exp.Expression) -> str:
    try:
        return node.sql(dialect="spark")[:40]
    except Exception:  # noqa: BLE001  (an empty node of an unusual type may not print)
        return node.key


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return node.sql_name().lower() if isinstance(node, exp.Func) else node.key


def _arguments(node: exp.Func) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    for value in node.args.values():
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, exp.Expression))
        elif isinstance(value, exp.Expression) and not isinstance(value, exp.DataType):
            out.append(value)
    return out


def _is_column(schema: T.StructType, name: str) -> bool:
    return name in schema.fieldNames()


def _suggest(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(f'`{c}`' for c in close)}?)" if close else ""


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _parses_as_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False
