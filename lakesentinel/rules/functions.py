"""The functions a rule expression may call, by name: argument counts and result types.

Anything not listed here is refused before a rule runs (no UDFs, no ``reflect``, no table functions,
no non-deterministic ``rand`` or ``current_timestamp``, which would make backtests disagree with the
stream). Functions that raise on bad input under ANSI SQL are compiled to their ``try_`` forms.

>>> spec = lookup("lower")
>>> spec.name, spec.min_args, spec.max_args
('lower', 1, 1)
>>> lookup("reflect") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pyspark.sql import types as T
from sqlglot import exp

ArgTypes = list["T.DataType | None"]
Returns = Callable[[ArgTypes], "T.DataType | None"]

STRING, BOOL, LONG, INT, DOUBLE = T.StringType(), T.BooleanType(), T.LongType(), T.IntegerType(), T.DoubleType()
TIMESTAMP, DATE = T.TimestampType(), T.DateType()


def _fixed(dt: T.DataType) -> Returns:
    return lambda args: dt


def _first(args: ArgTypes) -> T.DataType | None:
    return next((a for a in args if a is not None and not isinstance(a, T.NullType)), None)


def _element(args: ArgTypes) -> T.DataType | None:
    return args[0].elementType if args and isinstance(args[0], T.ArrayType) else None


def _same_array(args: ArgTypes) -> T.DataType | None:
    return args[0] if args and isinstance(args[0], T.ArrayType) else None


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    returns: Returns
    lambda_arg: bool = False  # second argument is a lambda over the first (an array)
    doc: str = ""


_BY_CLASS: dict[type, FunctionSpec] = {}
_BY_NAME: dict[str, FunctionSpec] = {}


def _reg(key: type | str, name: str, lo: int, hi: int | None, returns: Returns, *, lambda_arg: bool = False,
         doc: str = "") -> None:
    spec = FunctionSpec(name, lo, hi, returns, lambda_arg, doc)
    if isinstance(key, str):
        _BY_NAME[key] = spec
    else:
        _BY_CLASS[key] = spec
    _BY_NAME.setdefault(name, spec)


# Strings
_reg(exp.Lower, "lower", 1, 1, _fixed(STRING))
_reg(exp.Upper, "upper", 1, 1, _fixed(STRING))
_reg(exp.Length, "length", 1, 1, _fixed(INT))
_reg(exp.Substring, "substring", 2, 3, _fixed(STRING))
_reg(exp.Concat, "concat", 1, None, _fixed(STRING))
_reg(exp.DPipe, "||", 2, 2, _fixed(STRING))
_reg(exp.ConcatWs, "concat_ws", 2, None, _fixed(STRING))
_reg(exp.Trim, "trim", 1, 2, _fixed(STRING))
_reg(exp.StartsWith, "startswith", 2, 2, _fixed(BOOL))
_reg(exp.EndsWith, "endswith", 2, 2, _fixed(BOOL))
_reg(exp.Contains, "contains", 2, 2, _fixed(BOOL))
_reg(exp.StrPosition, "instr", 2, 3, _fixed(INT))
_reg(exp.RegexpExtract, "regexp_extract", 2, 3, _fixed(STRING))
_reg(exp.RegexpSplit, "split", 2, 3, _fixed(T.ArrayType(STRING)))
_reg(exp.Replace, "replace", 2, 3, _fixed(STRING))
# Nulls and choices
_reg(exp.Coalesce, "coalesce", 1, None, _first)
_reg(exp.Nullif, "nullif", 2, 2, _first)
# Numbers
_reg(exp.Abs, "abs", 1, 1, _first)
_reg(exp.Round, "round", 1, 2, _first)
_reg(exp.Floor, "floor", 1, 2, _fixed(LONG))
_reg(exp.Ceil, "ceil", 1, 2, _fixed(LONG))
_reg(exp.Greatest, "greatest", 1, None, _first)
_reg(exp.Least, "least", 1, None, _first)
_reg(exp.SafeDivide, "try_divide", 2, 2, _fixed(DOUBLE))
# Time (event time arithmetic; no clock functions)
_reg(exp.Hour, "hour", 1, 1, _fixed(INT))
_reg(exp.Minute, "minute", 1, 1, _fixed(INT))
_reg(exp.DayOfWeek, "dayofweek", 1, 1, _fixed(INT))
_reg(exp.DayOfMonth, "dayofmonth", 1, 1, _fixed(INT))
_reg(exp.TsOrDsToDate, "to_date", 1, 2, _fixed(DATE))
_reg(exp.TimestampTrunc, "date_trunc", 2, 2, _fixed(TIMESTAMP))
_reg(exp.UnixMillis, "unix_millis", 1, 1, _fixed(LONG))
_reg(exp.UnixSeconds, "unix_seconds", 1, 1, _fixed(LONG))
_reg(exp.StrToUnix, "unix_timestamp", 1, 2, _fixed(LONG))
_reg(exp.AtTimeZone, "from_utc_timestamp", 2, 2, _fixed(TIMESTAMP))
_reg(exp.DateDiff, "datediff", 2, 3, _fixed(INT))
_reg("timestamp_millis", "timestamp_millis", 1, 1, _fixed(TIMESTAMP))
_reg("timestamp_seconds", "timestamp_seconds", 1, 1, _fixed(TIMESTAMP))
# Arrays and maps
_reg(exp.ArraySize, "size", 1, 1, _fixed(INT))
_reg("cardinality", "cardinality", 1, 1, _fixed(INT))
_reg(exp.ArrayContains, "array_contains", 2, 2, _fixed(BOOL))
_reg("arrays_overlap", "arrays_overlap", 2, 2, _fixed(BOOL))
_reg(exp.ArrayToString, "array_join", 2, 3, _fixed(STRING))
_reg(exp.MapKeys, "map_keys", 1, 1, lambda a: T.ArrayType(a[0].keyType) if a and isinstance(a[0], T.MapType) else None)
_reg("map_values", "map_values", 1, 1,
     lambda a: T.ArrayType(a[0].valueType) if a and isinstance(a[0], T.MapType) else None)
_reg(exp.Exists, "exists", 2, 2, _fixed(BOOL), lambda_arg=True)
_reg("forall", "forall", 2, 2, _fixed(BOOL), lambda_arg=True)
_reg(exp.ArrayFilter, "filter", 2, 2, _same_array, lambda_arg=True)
_reg(exp.Transform, "transform", 2, 2, lambda a: None, lambda_arg=True)
# lakesentinel macros, expanded to plain SQL by the compiler
_reg("cidr_match", "cidr_match", 2, 2, _fixed(BOOL),
     doc="cidr_match(ip, '10.0.0.0/8'): the IPv4 address (a port suffix is ignored) is in the range")

AGGREGATES = ("count", "sum", "max", "min", "count_distinct_except")


def lookup(key: type | str) -> FunctionSpec | None:
    if isinstance(key, str):
        return _BY_NAME.get(key.lower())
    return _BY_CLASS.get(key)


def names() -> list[str]:
    return sorted({s.name for s in _BY_CLASS.values()} | {s.name for s in _BY_NAME.values()})
