"""Regular expressions and LIKE patterns a rule may use: only those that cannot backtrack for ever.

Spark runs ``RLIKE``, ``regexp_extract``, ``split`` and LIKE patterns with several ``%`` through
``java.util.regex``, which backtracks: ``(a+)+b`` over a long line of ``a`` holds a micro-batch for
hours. A pattern is refused when it is longer than :data:`MAX_PATTERN_CHARS`, nests a quantifier
inside a repeated group, repeats an alternation, has more than :data:`MAX_UNBOUNDED` unbounded
repeats, uses backreferences or lookaround, or uses syntax only Python reads (``(?P<name>...)``).
Java's own syntax check runs where a Spark session exists (:mod:`~lakesentinel.rules.analysis`).

>>> regex_problems("^(svc|bot)-[a-z0-9]+$")
[]
>>> regex_problems("(a+)+b")
['a repeated group holds another repeat (nested quantifiers backtrack catastrophically)']
>>> regex_problems("(?P<user>\\\\w+)")
['(?P...) is Python-only syntax; Java writes named groups (?<name>...)']
>>> like_problems("%a%b%c%d%e%")
['6 `%` wildcards (at most 4): each one more multiplies the backtracking']
"""

from __future__ import annotations

import re
import warnings
from re import _constants as C  # noqa: N812  (the parser's opcode names)
from re import _parser  # sre's parser: the one tree of a pattern that both checks below need

MAX_PATTERN_CHARS = 500
MAX_UNBOUNDED = 4  # *, + and {n,} in one pattern: each adds a factor of the input's length
MAX_LIKE_WILDCARDS = 4
MAX_BOUNDED_PRODUCT = 100  # (x{1,3}){4} is fine; (x{1,50}){50} is not

_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)
_PYTHON_ONLY = (
    (re.compile(r"\(\?P[<=>]"), "(?P...) is Python-only syntax; Java writes named groups (?<name>...)"),
    (re.compile(r"\(\?#"), "(?#...) comments are Python-only syntax"),
    (re.compile(r"\(\?[a-zA-Z]*[aL][a-zA-Z]*[):]"), "the a and L flags are Python-only"),
    (re.compile(r"(?<!\\)\{,\d"), "{,n} is Python-only; write {0,n}"),
)
_JAVA_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>")  # Python spells it (?P<name>...)


def regex_problems(pattern: str) -> list[str]:
    """Why ``pattern`` may not run on the hot path (empty when it may)."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return [f"the pattern is {len(pattern)} characters long (at most {MAX_PATTERN_CHARS})"]
    problems = [message for syntax, message in _PYTHON_ONLY if syntax.search(pattern)]
    if problems:
        return problems
    try:
        with warnings.catch_warnings():  # "possible nested set": Java reads [[...]] as a union, which is fine
            warnings.simplefilter("ignore")
            tree = _parser.parse(_JAVA_NAMED_GROUP.sub(r"(?P<\1>", pattern))
    except (re.error, RecursionError, OverflowError) as exc:
        return [f"not a valid regular expression: {exc}"]
    found: dict[str, None] = {}
    # Python's own parser gives the tree; Java reads the same syntax once the Python-only forms are out.
    unbounded = _walk(tree, 1, found)
    if unbounded > MAX_UNBOUNDED:
        found[f"{unbounded} unbounded repeats (*, +, {{n,}}; at most {MAX_UNBOUNDED})"] = None
    return list(found)


def _walk(items, enclosing: float, found: dict[str, None]) -> int:
    """Record problems below ``items``; ``enclosing`` is the product of the counts of the repeats around
    them (1 outside any). Return the number of unbounded repeats."""
    unbounded = 0
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            count = float("inf") if high == C.MAXREPEAT else high
            if count > 1 and enclosing > 1 and count * enclosing > MAX_BOUNDED_PRODUCT:
                found["a repeated group holds another repeat (nested quantifiers backtrack catastrophically)"] = None
            if high == C.MAXREPEAT:
                unbounded += 1
            if count > 1 and _overlapping_branch(body):
                found["a repeated alternation whose branches can start alike, such as (a|ab)*, backtracks "
                      "catastrophically; repeat a character class [ab]* instead"] = None
            unbounded += _walk(body, enclosing * max(count, 1), found)
        elif op is C.SUBPATTERN:
            unbounded += _walk(av[-1], enclosing, found)
        elif op is C.BRANCH:
            for alternative in av[1]:
                unbounded += _walk(alternative, enclosing, found)
        elif op in (C.GROUPREF, C.GROUPREF_EXISTS):
            found["backreferences are not allowed"] = None
        elif op in (C.ASSERT, C.ASSERT_NOT):
            found["lookahead and lookbehind are not allowed"] = None
        elif op is C.ATOMIC_GROUP:
            unbounded += _walk(av, enclosing, found)
    return unbounded


def _overlapping_branch(items) -> bool:
    """An alternation below ``items`` whose branches do not each start with a distinct literal character."""
    for op, av in items:
        if op is C.SUBPATTERN and _overlapping_branch(av[-1]):
            return True
        if op is C.BRANCH:
            firsts = []
            for alternative in av[1]:
                if not alternative or alternative[0][0] is not C.LITERAL:
                    return True
                firsts.append(alternative[0][1])
            if len(set(firsts)) != len(firsts):
                return True
    return False


def like_problems(pattern: str) -> list[str]:
    """Why a LIKE pattern may not run on the hot path: Spark turns several ``%`` into ``.*`` runs."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return [f"the pattern is {len(pattern)} characters long (at most {MAX_PATTERN_CHARS})"]
    wildcards = len(re.findall(r"(?<!\\)%+", pattern))
    if wildcards > MAX_LIKE_WILDCARDS:
        return [f"{wildcards} `%` wildcards (at most {MAX_LIKE_WILDCARDS}): each one more multiplies the backtracking"]
    return []
