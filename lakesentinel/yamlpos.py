"""The one reader of user-edited YAML files (rules, detectors, routes, quality checks, security events).

Every key and value keeps its line and column, so any problem found later points at the file.

>>> docs = load_documents("id: a\\ndetection:\\n  sel: {action_name: login}\\n", "r.yaml")
>>> doc = docs[0]
>>> doc.value["detection"]["sel"]
{'action_name': 'login'}
>>> doc.where(("detection", "sel", "action_name"))
Position(line=3, column=22)
>>> doc.where(("detection", "sel", "action_name"), key=True)
Position(line=3, column=9)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Position:
    """1-based line and column in a file."""

    line: int
    column: int


@dataclass
class ScalarText:
    """Where a scalar's text starts and how it was written, to place an offset inside it."""

    start: Position
    style: str | None  # None plain, "'" or '"' quoted, "|" literal, ">" folded


@dataclass
class Document:
    """One YAML document of a file: its value and where each part of it sits."""

    value: Any
    file: str
    index: int  # 0-based document number in the file
    start: Position
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    scalars: dict[Path, ScalarText] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def where(self, path: Path, key: bool = False) -> Position:
        """Position of the value (or key) at ``path``, else of its nearest ancestor."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.start

    def offset(self, path: Path, offset: int) -> Position:
        """Position of character ``offset`` of the string scalar at ``path`` (for expression errors)."""
        text = self.scalars.get(tuple(path))
        if text is None:
            return self.where(path)
        start = text.start
        if text.style in ("|", ">"):
            # Block scalars start on the line after the indicator; count lines into the content.
            content = [ln for ln in self.lines[start.line:]]  # lines after the indicator line
            consumed, row = 0, 0
            for row, raw in enumerate(content):
                stripped = raw.lstrip(" ")
                indent = len(raw) - len(stripped)
                width = len(stripped) + 1  # the newline (or folding space)
                if consumed + width > offset or row == len(content) - 1:
                    return Position(start.line + 1 + row, indent + 1 + (offset - consumed))
                consumed += width
            return Position(start.line + 1, 1)
        shift = 1 if text.style in ("'", '"') else 0
        return Position(start.line, start.column + shift + offset)


class YamlSyntaxError(Exception):
    def __init__(self, message: str, position: Position):
        super().__init__(message)
        self.position = position


def _pos(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, doc: Document):
        self.doc = doc
        self.constructor = yaml.SafeLoader("")  # only its scalar constructors are used

    def build(self, node: Node, path: Path) -> Any:
        self.doc.values[path] = _pos(node)
        if isinstance(node, MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlSyntaxError("YAML merge keys (<<) are not supported", _pos(key_node))
                key = self.build_scalar(key_node) if isinstance(key_node, ScalarNode) else None
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    raise YamlSyntaxError("mapping keys must be plain scalars", _pos(key_node))
                if key in out:
                    raise YamlSyntaxError(f"duplicate key {key!r}", _pos(key_node))
                self.doc.keys[path + (key,)] = _pos(key_node)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        value = self.build_scalar(node)
        if isinstance(value, str):
            self.doc.scalars[path] = ScalarText(_pos(node), node.style)
        return value

    def build_scalar(self, node: ScalarNode) -> Any:
        value = self.constructor.construct_object(node, deep=True)
        # Timestamps stay text: the rule model parses them and reports its own errors.
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value
        return value


# Caps that bound the time and memory any user file can cost, whatever its content (see docs/threat-model.md).
MAX_FILE_BYTES = 1_000_000  # the largest shipped rule file is a few kB
MAX_NESTING = 40  # mappings and lists inside one another; PyYAML's composer recurses per level
MAX_DOCUMENTS = 500


class _CappedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases (a few hundred bytes of nested aliases expand to gigabytes)
    and nesting deeper than MAX_NESTING, each at the place it is written."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: D102  (PyYAML's hook)
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise YamlSyntaxError("YAML aliases (*name) are not allowed: write the value out", _mark(event.start_mark))
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise YamlSyntaxError(f"nested more than {MAX_NESTING} levels deep", _mark(event.start_mark))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _mark(mark) -> Position:
    return Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)


def read_text(path) -> str:
    """A user file's text, read no further than one character past MAX_FILE_BYTES (which load_documents
    then refuses), so a huge file costs no more memory than an allowed one."""
    with open(path, encoding="utf-8") as f:
        return f.read(MAX_FILE_BYTES + 1)


def load_documents(text: str, file: str) -> list[Document]:
    """Every document of a YAML text, with positions; raise YamlSyntaxError at the first syntax error,
    alias or anchor, or when the text is too large or nests too deeply."""
    if len(text) > MAX_FILE_BYTES:
        raise YamlSyntaxError(f"the file is larger than {MAX_FILE_BYTES:,} characters", Position(1, 1))
    lines = text.splitlines()
    nodes = []
    loader = _CappedLoader(text)
    try:
        while loader.check_node():
            nodes.append(loader.get_node())
            if len(nodes) > MAX_DOCUMENTS:
                raise YamlSyntaxError(f"more than {MAX_DOCUMENTS} documents", _pos(nodes[-1]))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(f"not valid YAML: {exc.problem or exc}", _mark(mark)) from None
    except RecursionError:
        raise YamlSyntaxError("nested too deeply", Position(1, 1)) from None
    finally:
        loader.dispose()
    docs = []
    for index, node in enumerate(nodes):
        if node is None:
            continue
        doc = Document(None, file, index, _pos(node), lines=lines)
        doc.value = _Builder(doc).build(node, ())
        docs.append(doc)
    return docs


def load_document(text: str, file: str) -> Document | None:
    """The single document of a YAML text (None when empty); raise YamlSyntaxError on a syntax error or a second document."""
    docs = load_documents(text, file)
    if len(docs) > 1:
        raise YamlSyntaxError(f"expected one YAML document, found {len(docs)}", docs[1].start)
    return docs[0] if docs else None
