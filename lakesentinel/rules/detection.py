"""Sigma-style selections and conditions, turned into checked SQL expressions.

A selection is a map of ``field|modifier: value(s)``: every entry must hold, a list of values means
any of them (all of them with ``|all``). Values with ``*`` or ``?`` are wildcards. Modifiers:
``contains``, ``startswith``, ``endswith``, ``re`` (regular expression), ``cidr`` (IPv4 range),
``gt``, ``gte``, ``lt``, ``lte``, ``neq``, ``exists`` (true/false), ``ci`` (ignore case), ``all``.
Matching is case-sensitive unless ``|ci``: system-table values have stable casing.
A selection may instead be a list of such maps (any of them) or an SQL boolean expression.

The condition combines selection names with ``and``, ``or``, ``not`` and parentheses, plus Sigma's
``1 of sel*``, ``all of sel*``, ``1 of them`` and ``all of them``.

>>> from lakesentinel.rules.expressions import Scope
>>> from lakesentinel.rules.logsources import logsource
>>> scope = Scope(logsource("access.audit").schema)
>>> checked, problems = selection({"action_name": ["login", "samlLogin"], "response.status_code|gte": 400},
...                               scope, ("detection", "sel"))
>>> checked.sql
"`action_name` IN ('login', 'samlLogin') AND `response`.`status_code` >= 400"
>>> expand_quantifiers("1 of sel_* and not filter", ["sel_a", "sel_b", "filter"])
'(sel_a OR sel_b) and not filter'
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from pyspark.sql import types as T
from sqlglot import exp

from lakesentinel.rules.expressions import (
    BOOL, Checked, ExpressionProblems, Scope, check, cidr_sql, is_numeric, parse, type_name,
)
from lakesentinel.rules.patterns import like_problems, regex_problems

MODIFIERS = ("contains", "startswith", "endswith", "re", "cidr", "gt", "gte", "lt", "lte", "neq", "exists",
             "ci", "all")
_COMPARE = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
_QUANTIFIER = re.compile(r"\b(1|any|all)\s+of\s+(them|[A-Za-z_][A-Za-z0-9_]*\*?)", re.IGNORECASE)


@dataclass
class Located:
    """A problem inside a rule document: the path to the YAML node, key or value, and an offset in text."""

    code: str
    message: str
    path: tuple
    key: bool = False
    offset: int | None = None


def expand_quantifiers(condition: str, names: list[str]) -> str:
    """Replace Sigma's ``1 of x*`` / ``all of them`` with explicit OR / AND of selection names."""

    def repl(m: re.Match[str]) -> str:
        quantifier, target = m.group(1).lower(), m.group(2)
        chosen = names if target == "them" else [n for n in names if fnmatch.fnmatchcase(n, target)]
        if not chosen:
            return f"__no_selection_matches_{target.rstrip('*')}"
        joiner = " AND " if quantifier == "all" else " OR "
        return "(" + joiner.join(chosen) + ")"

    return _QUANTIFIER.sub(repl, condition)


def selection(value: Any, scope: Scope, path: tuple) -> tuple[Checked | None, list[Located]]:
    """Check one selection (map, list of maps, or SQL text) and return it as a boolean expression."""
    if isinstance(value, str):
        try:
            return check(value, scope, boolean=True), []
        except ExpressionProblems as exc:
            return None, [Located(p.code, p.message, path, offset=p.offset) for p in exc.problems]
    if isinstance(value, dict):
        return _map(value, scope, path)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        parts, problems, reads = [], [], set()
        for i, item in enumerate(value):
            checked, found = _map(item, scope, path + (i,))
            problems += found
            if checked is not None:
                parts.append(checked.ast)
                reads |= checked.reads
        if problems:
            return None, problems
        return Checked(_join(parts, exp.Or), BOOL, reads), []
    return None, [Located("selection", "a selection is a map of field: value(s), a list of such maps, "
                                       "or an SQL boolean expression", path)]


def _map(entries: dict, scope: Scope, path: tuple) -> tuple[Checked | None, list[Located]]:
    if not entries:
        return None, [Located("selection", "an empty selection matches nothing; remove it", path)]
    parts: list[exp.Expression] = []
    problems: list[Located] = []
    reads: set[str] = set()
    for raw_key, raw_values in entries.items():
        key_path = path + (raw_key,)
        field_text, *mods = str(raw_key).split("|")
        unknown = [m for m in mods if m not in MODIFIERS]
        if unknown:
            problems.append(Located("modifier", f"unknown modifier(s) {', '.join(unknown)}; known: "
                                                f"{', '.join(MODIFIERS)}", key_path, key=True))
            continue
        try:
            target = check(parse(field_text), scope)
        except ExpressionProblems as exc:
            problems += [Located(p.code, p.message, key_path, key=True, offset=p.offset) for p in exc.problems]
            continue
        reads |= target.reads
        values = raw_values if isinstance(raw_values, list) else [raw_values]
        if not values:
            problems.append(Located("selection", "an empty list of values matches nothing", key_path))
            continue
        built, found = _entry(target, set(mods), values, key_path, isinstance(raw_values, list))
        problems += found
        if built is not None:
            parts.append(built)
    if problems:
        return None, problems
    return Checked(_join(parts, exp.And), BOOL, reads), []


def _entry(target: Checked, mods: set[str], values: list, path: tuple,
           listed: bool) -> tuple[exp.Expression | None, list[Located]]:
    field, dt = target.ast, target.dtype
    problems: list[Located] = []
    if "exists" in mods:
        if len(values) != 1 or not isinstance(values[0], bool):
            return None, [Located("value", "|exists takes true or false", path)]
        is_null = exp.Is(this=field.copy(), expression=exp.Null())
        return (exp.Not(this=is_null) if values[0] else is_null), []
    ci = "ci" in mods
    kind = next((m for m in ("contains", "startswith", "endswith", "re", "cidr", "gt", "gte", "lt", "lte", "neq")
                 if m in mods), "eq")
    equal_values: list[exp.Expression] = []
    preds: list[exp.Expression] = []
    for i, raw in enumerate(values):
        where = path + (i,) if listed else path
        if raw is None:
            preds.append(exp.Is(this=field.copy(), expression=exp.Null()))
            continue
        if kind in ("contains", "startswith", "endswith", "re", "cidr") or (kind == "eq" and isinstance(raw, str)
                                                                          and _has_wildcard(raw)):
            if dt is not None and not isinstance(dt, T.StringType):
                problems.append(Located("type", f"|{kind if kind != 'eq' else 'wildcard'} needs a text field, but "
                                                f"this field is a {type_name(dt)}", path, key=True))
                continue
            text = str(raw)
            if kind == "re":
                found = regex_problems(text)
                if found:
                    problems += [Located("pattern", f"|re {text[:60]!r}: {m}", where) for m in found]
                    continue
                # Lower-casing a pattern would change its classes (\\D is not \\d): ignore case in the regex.
                pattern = f"(?i){text}" if ci else text
                preds.append(exp.RegexpLike(this=field.copy(), expression=exp.Literal.string(pattern)))
                continue
            subject = exp.Lower(this=field.copy()) if ci else field.copy()
            if ci:
                text = text.lower()
            if kind == "cidr":
                try:
                    if ipaddress.ip_network(text, strict=False).version != 4:
                        raise ValueError("only IPv4 ranges are supported")
                except ValueError as exc:
                    problems.append(Located("value", f"not an IPv4 CIDR range: {text!r} ({exc})", where))
                    continue
                preds.append(cidr_sql(field, text))
            else:
                pattern = _like_pattern(text, kind)
                found = like_problems(pattern)
                if found:
                    problems += [Located("pattern", f"{text[:60]!r}: {m}", where) for m in found]
                    continue
                preds.append(exp.Like(this=subject, expression=exp.Literal.string(pattern)))
            continue
        literal, problem = _literal(raw, dt, where)
        if problem:
            problems.append(problem)
            continue
        subject = field.copy()
        if ci and isinstance(raw, str):
            subject, literal = exp.Lower(this=subject), exp.Literal.string(str(raw).lower())
        if kind in _COMPARE:
            preds.append(_COMPARE[kind](this=subject, expression=literal))
        elif kind == "neq":
            preds.append(exp.NEQ(this=subject, expression=literal))
        elif ci or "all" in mods:
            preds.append(exp.EQ(this=subject, expression=literal))
        else:
            equal_values.append(literal)
    if problems:
        return None, problems
    if equal_values:
        preds.insert(0, exp.EQ(this=field.copy(), expression=equal_values[0]) if len(equal_values) == 1
                     else exp.In(this=field.copy(), expressions=equal_values))
    if kind == "neq" and "all" not in mods:
        return _join(preds, exp.And), []  # "not any of these values"
    return _join(preds, exp.And if "all" in mods else exp.Or), []


def _literal(raw: Any, dt: T.DataType | None, where: tuple) -> tuple[exp.Expression | None, Located | None]:
    if isinstance(raw, bool):
        if dt is not None and not isinstance(dt, T.BooleanType):
            return None, Located("type", f"true/false compared with a {type_name(dt)} field", where)
        return exp.Boolean(this=raw), None
    if isinstance(raw, (int, float)):
        if dt is None or is_numeric(dt):
            return exp.Literal.number(raw), None
        if isinstance(dt, T.StringType):
            return exp.Literal.string(str(raw)), None  # ids written as numbers in YAML are text columns
        return None, Located("type", f"a number compared with a {type_name(dt)} field", where)
    text = str(raw)
    if is_numeric(dt):
        try:
            float(text)
            return exp.Literal.number(text), None
        except ValueError:
            return None, Located("type", f"{text!r} compared with a number field ({type_name(dt)})", where)
    if isinstance(dt, T.BooleanType):
        return None, Located("type", f"{text!r} compared with a true/false field; write true or false", where)
    return exp.Literal.string(text), None


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _like_pattern(text: str, kind: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if kind == "eq":  # Sigma wildcards
        escaped = escaped.replace("*", "%").replace("?", "_")
    return {"contains": f"%{escaped}%", "startswith": f"{escaped}%", "endswith": f"%{escaped}"}.get(kind, escaped)


def _join(parts: list[exp.Expression], op: type) -> exp.Expression:
    if len(parts) == 1:
        return parts[0]
    out = exp.Paren(this=parts[0]) if op is exp.And and isinstance(parts[0], exp.Or) else parts[0]
    for part in parts[1:]:
        wrapped = exp.Paren(this=part) if isinstance(part, (exp.Or, exp.And)) and op is not type(part) else part
        out = op(this=out, expression=wrapped)
    return out
