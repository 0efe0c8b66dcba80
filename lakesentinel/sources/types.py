"""Spark SQL type strings (as ``DESCRIBE TABLE`` prints them) to Spark types, and back.

Parsed here rather than by Spark so that the schemas exist without a JVM (the simulator writes
with delta-rs and never starts Spark).

>>> parse_type("map<string,struct<a: bigint, `default`: decimal(38,18)>>").simpleString()
'map<string,struct<a:bigint,default:decimal(38,18)>>'
>>> type_ddl(parse_type("struct<default: int>"))
'STRUCT<`default`: INT>'
"""

from __future__ import annotations

import re

from pyspark.sql import types as T

_SIMPLE: dict[str, T.DataType] = {
    "string": T.StringType(),
    "bigint": T.LongType(),
    "long": T.LongType(),
    "int": T.IntegerType(),
    "integer": T.IntegerType(),
    "smallint": T.ShortType(),
    "tinyint": T.ByteType(),
    "double": T.DoubleType(),
    "float": T.FloatType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
    "timestamp_ntz": T.TimestampNTZType(),
    "binary": T.BinaryType(),
}

_TOKEN = re.compile(r"\s*(`[^`]+`|[A-Za-z_][A-Za-z0-9_]*|\d+|[<>(),:])")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = [m.group(1) for m in _TOKEN.finditer(text)]
        if "".join(self.tokens) != re.sub(r"\s+", "", text):
            raise ValueError(f"cannot parse type {text!r}")
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok.lower() != expected):
            raise ValueError(f"cannot parse type {self.text!r}: expected {expected or 'more'} at token {self.i}")
        self.i += 1
        return tok

    def parse(self) -> T.DataType:
        word = self.take().lower()
        if word == "struct":
            self.take("<")
            fields = []
            while self.peek() != ">":
                name = self.take().strip("`")
                if self.peek() == ":":
                    self.take(":")
                fields.append(T.StructField(name, self.parse(), True))
                if self.peek() == ",":
                    self.take(",")
            self.take(">")
            return T.StructType(fields)
        if word == "map":
            self.take("<")
            key = self.parse()
            self.take(",")
            value = self.parse()
            self.take(">")
            return T.MapType(key, value, True)
        if word == "array":
            self.take("<")
            element = self.parse()
            self.take(">")
            return T.ArrayType(element, True)
        if word == "decimal":
            self.take("(")
            precision = int(self.take())
            self.take(",")
            scale = int(self.take())
            self.take(")")
            return T.DecimalType(precision, scale)
        if word in _SIMPLE:
            return _SIMPLE[word]
        raise ValueError(f"unknown type {word!r} in {self.text!r}")


def parse_type(text: str) -> T.DataType:
    parser = _Parser(text)
    result = parser.parse()
    if parser.peek() is not None:
        raise ValueError(f"trailing text in type {text!r}")
    return result


def parse_columns(columns: list[tuple[str, str]]) -> T.StructType:
    return T.StructType([T.StructField(name, parse_type(text), True) for name, text in columns])


def type_ddl(dt: T.DataType) -> str:
    """DDL for a type with every struct field name quoted (``default`` is a keyword, for one)."""
    if isinstance(dt, T.StructType):
        return "STRUCT<" + ", ".join(f"`{f.name}`: {type_ddl(f.dataType)}" for f in dt.fields) + ">"
    if isinstance(dt, T.MapType):
        return f"MAP<{type_ddl(dt.keyType)}, {type_ddl(dt.valueType)}>"
    if isinstance(dt, T.ArrayType):
        return f"ARRAY<{type_ddl(dt.elementType)}>"
    return dt.simpleString().upper()


def schema_ddl(schema: T.StructType) -> str:
    return ", ".join(f"`{f.name}` {type_ddl(f.dataType)}" for f in schema.fields)


def strip_nullability(dt: T.DataType) -> T.DataType:
    """The same type with every field, element and value nullable, for comparing shapes only."""
    if isinstance(dt, T.StructType):
        return T.StructType([T.StructField(f.name, strip_nullability(f.dataType), True) for f in dt.fields])
    if isinstance(dt, T.MapType):
        return T.MapType(strip_nullability(dt.keyType), strip_nullability(dt.valueType), True)
    if isinstance(dt, T.ArrayType):
        return T.ArrayType(strip_nullability(dt.elementType), True)
    return dt


def diff_schemas(expected: T.StructType, actual: T.StructType, path: str = "") -> list[str]:
    """Every difference in names, order-insensitive presence, and types, one line each."""
    problems: list[str] = []
    exp = {f.name: f.dataType for f in expected.fields}
    act = {f.name: f.dataType for f in actual.fields}
    for name, dt in exp.items():
        col = f"{path}{name}"
        if name not in act:
            problems.append(f"column `{col}` is missing (expected {dt.simpleString()})")
        elif isinstance(dt, T.StructType) and isinstance(act[name], T.StructType):
            problems.extend(diff_schemas(dt, act[name], col + "."))
        elif strip_nullability(dt) != strip_nullability(act[name]):
            problems.append(
                f"column `{col}` has type {act[name].simpleString()}, expected {dt.simpleString()}"
            )
    for name, dt in act.items():
        if name not in exp:
            problems.append(f"column `{path}{name}` is not in the table ({dt.simpleString()})")
    return problems
