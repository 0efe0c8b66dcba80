"""The one issue type for user-edited files: each problem names file, line, column, id and reason.

Readers collect issues instead of raising at the first one, so one run reports every problem.

>>> issue = Issue("error", "unknown-column", "no column `emial`", "rules/security/x.yaml", 7, 12, "security.x")
>>> str(issue)
'rules/security/x.yaml:7:12: error [security.x] no column `emial` (unknown-column)'
>>> str(Issue("error", "schema", "expected a duration", "routes.yaml", 3, 5, key="route.group_wait"))
"routes.yaml:3:5: error key 'route.group_wait': expected a duration (schema)"
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from lakesentinel.errors import ConfigError, LakeSentinelError

if TYPE_CHECKING:
    from pydantic import ValidationError

    from lakesentinel.yamlpos import Document

IssueSeverity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """A problem in a user file; ``message`` is the reason, ``id`` the rule, detector, route or entry it is about."""

    severity: IssueSeverity
    code: str  # short, stable kebab-case name of the check, e.g. "unknown-column"
    message: str
    file: str
    line: int = 0
    column: int = 0
    id: str | None = None
    key: str = ""  # dotted path inside the document, e.g. "metric.window.size"

    @property
    def reason(self) -> str:
        return self.message

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column}" if self.column else f":{self.line}"
        who = f" [{self.id}]" if self.id else ""
        key = f" key '{self.key}':" if self.key else ""
        text = f"{self.severity}{who}{key} {self.message} ({self.code})"
        return f"{where}: {text}" if where else text

    def to_dict(self) -> dict:
        return asdict(self)


class FileIssuesError(LakeSentinelError):
    """User files with errors; ``issues`` lists every one (the CLI prints them all)."""

    what = "files"

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        shown = errors(self.issues) or self.issues
        lines = "\n".join(f"  {i}" for i in shown[:50])
        more = f"\n  ... and {len(shown) - 50} more" if len(shown) > 50 else ""
        super().__init__(f"{len(shown)} error(s) in {self.what}:\n{lines}{more}")


class ConfigFileError(FileIssuesError, ConfigError):
    """A configuration file a user edits (quality checks, security events) has errors."""

    what = "configuration file"


def read_yaml(path, error: type[FileIssuesError] = ConfigFileError) -> Document | None:
    """The one document of the YAML file ``path`` (None when empty); ``error`` names any syntax error's place."""
    from lakesentinel.yamlpos import YamlSyntaxError, load_document, read_text

    try:
        return load_document(read_text(path), str(path))
    except YamlSyntaxError as exc:
        raise error([Issue("error", "yaml", str(exc), str(path), exc.position.line,
                           exc.position.column)]) from None


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


def dotted(path: tuple) -> str:
    """``("metric", "features", 0, "agg")`` -> ``metric.features[0].agg``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def at(doc: Document | None, path: tuple, code: str, message: str, *, file: str = "", id: str | None = None,
       key: bool = False, shown: tuple | None = None, severity: IssueSeverity = "error") -> Issue:
    """An issue placed at ``path`` of ``doc`` (its key with ``key``); ``shown`` is the path named in the text."""
    if doc is None:
        return Issue(severity, code, message, file, 0, 0, id, dotted(path if shown is None else shown))
    pos = doc.where(path, key=key)
    return Issue(severity, code, message, doc.file, pos.line, pos.column, id, dotted(path if shown is None else shown))


def validation_issues(exc: ValidationError, doc: Document, prefix: tuple = (), *, id: str | None = None,
                      rename: dict[str, str] | None = None) -> list[Issue]:
    """One issue per pydantic error, placed at the offending key of ``doc`` (under ``prefix``)."""
    rename = rename or {}
    out = []
    for err in exc.errors():
        loc: tuple[Any, ...] = tuple(rename.get(p, p) if isinstance(p, str) else p for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err and not isinstance(err["input"], (dict, list)):
            msg += f" (got {err['input']!r})"
        out.append(at(doc, prefix + loc, "schema", msg, id=id, key=err["type"] == "extra_forbidden", shown=loc))
    return out
