"""Errors of rule files; each problem is an :class:`lakesentinel.issues.Issue` naming file, line, column and rule.

Validators return issues instead of raising, so one run reports every problem at once; a file with
errors is left out of the running set while the other files keep running.
"""

from __future__ import annotations

from lakesentinel.errors import LakeSentinelError
from lakesentinel.issues import FileIssuesError, Issue, IssueSeverity, errors

__all__ = ["Issue", "IssueSeverity", "RuleError", "RuleNotFoundError", "RuleTestInputError", "errors"]


class RuleError(FileIssuesError):
    """Rule files with errors; ``issues`` lists every one (the CLI prints them all)."""

    what = "rule files"


class RulesFolderError(LakeSentinelError):
    """The rules folder does not exist or holds no rule file (the message names it)."""


class RuleNotFoundError(LakeSentinelError):
    """A rule id given on the command line (or by a caller) matches no loaded rule."""


class RuleTestInputError(LakeSentinelError):
    """A rule test case's input rows do not fit the source schema (the message names case, row and field)."""
