"""Label matchers, as Alertmanager writes them: ``name=value``, ``name!=value``, ``name=~regex``, ``name!~regex``.

Routes, silences and inhibition rules all select alerts with these. Regular expressions are anchored
(they must match the whole value); a label that is absent matches as the empty string.

>>> m = Matcher.parse('severity=~"critical|high"')
>>> m.matches({"severity": "high"}), m.matches({"severity": "highest"}), str(m)
(True, False, 'severity=~"critical|high"')
>>> Matcher.parse("team != finops").matches({})
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

_SYNTAX = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|(.*?))\s*$')
OPERATORS = ("=", "!=", "=~", "!~")


class MatcherError(ValueError):
    """A matcher that cannot be parsed; the message quotes it and says what is expected."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str
    _regex: re.Pattern | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str) -> "Matcher":
        m = _SYNTAX.match(text)
        if not m:
            raise MatcherError(f"not a matcher: {text!r} (expected name=value, name!=value, name=~regex or name!~regex)")
        name, op = m.group(1), m.group(2)
        value = m.group(3).replace('\\"', '"') if m.group(3) is not None else m.group(4)
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = re.compile(f"(?:{value})\\Z")
            except re.error as exc:
                raise MatcherError(f"matcher {text!r}: bad regular expression: {exc}") from None
        return cls(name, op, value, regex)

    def matches(self, labels: Mapping[str, str | None]) -> bool:
        actual = labels.get(self.name) or ""
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = self._regex.match(actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        value = self.value.replace('"', '\\"')
        return f'{self.name}{self.op}"{value}"'


def parse_all(texts: list[str]) -> list[Matcher]:
    return [Matcher.parse(t) for t in texts]


def match_all(matchers: list[Matcher], labels: Mapping[str, str | None]) -> bool:
    """True when every matcher matches (an empty list matches everything)."""
    return all(m.matches(labels) for m in matchers)


@dataclass(frozen=True)
class Matchers:
    """A conjunction of matchers (what routes, silences and inhibition rules hold).

    >>> ms = Matchers.parse(["domain=security", 'severity=~"high|critical"'])
    >>> ms.matches({"domain": "security", "severity": "critical"}), ms.matches({"domain": "cost"}), len(ms)
    (True, False, 2)
    """

    items: tuple[Matcher, ...] = ()

    @classmethod
    def parse(cls, texts: list[str] | tuple[str, ...]) -> "Matchers":
        return cls(tuple(Matcher.parse(t) for t in texts))

    def matches(self, labels: Mapping[str, str | None]) -> bool:
        return match_all(list(self.items), labels)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __str__(self) -> str:
        return "{" + ", ".join(str(m) for m in self.items) + "}"

    def texts(self) -> list[str]:
        return [str(m) for m in self.items]
