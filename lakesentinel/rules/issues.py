"""Problems found in rule files: each names the file, line, column and rule, and says what is wrong.

Validators return issues instead of raising, so one run reports every problem at once; a file with
errors is left out of the running set while the other files keep running.

>>> issue = Issue("error", "unknown-column", "no column `emial`", "rules/security/x.yaml", 7, 12, "security.x")
>>> str(issue)
'rules/security/x.yaml:7:12: error [security.x] no column `emial` (unknown-column)'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from lakesentinel.errors import LakeSentinelError

IssueSeverity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    severity: IssueSeverity
    code: str  # short, stable kebab-case name of the check, e.g. "unknown-column"
    message: str
    file: str
    line: int = 0
    column: int = 0
    rule_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        rule = f" [{self.rule_id}]" if self.rule_id else ""
        return f"{where}: {self.severity}{rule} {self.message} ({self.code})"

    def to_dict(self) -> dict:
        return asdict(self)


class RuleError(LakeSentinelError):
    """Rule files with errors; ``issues`` lists every one (the CLI prints them all)."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        lines = "\n".join(f"  {i}" for i in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} error(s) in rule files:\n{lines}{more}")


class RulesFolderError(LakeSentinelError):
    """The rules folder does not exist or holds no rule file (the message names it)."""


class RuleNotFoundError(LakeSentinelError):
    """A rule id given on the command line (or by a caller) matches no loaded rule."""


class RuleTestInputError(LakeSentinelError):
    """A rule test case's input rows do not fit the source schema (the message names case, row and field)."""


def errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]
