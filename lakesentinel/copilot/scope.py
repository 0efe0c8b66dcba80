"""Which workspaces a caller may see, and the SQL predicate that enforces it inside every query."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakesentinel.errors import LakeSentinelError

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ScopeError(LakeSentinelError):
    """A workspace outside the caller's scope, or a malformed workspace id."""


def check_id(value: str, what: str) -> str:
    """An id that may be quoted into SQL: letters, digits, ``_.-`` only (named in the error)."""
    if not _ID.match(value or ""):
        raise ScopeError(f"{what} {value!r}: not an id (letters, digits, '_', '.', '-')")
    return value


@dataclass(frozen=True)
class Scope:
    """The workspaces a caller may see; a query reads nothing outside them."""

    workspaces: tuple[str, ...]

    def __post_init__(self):
        if not self.workspaces:
            raise ScopeError("a scope needs at least one workspace")
        for w in self.workspaces:
            check_id(w, "workspace")

    def predicate(self, column: str = "workspace_id") -> str:
        """``column IN ('a', 'b')``: put in the WHERE clause, so rows outside never leave the lakehouse."""
        return f"{column} IN ({', '.join(repr(w) for w in self.workspaces)})"

    def narrow(self, workspace_id: str | None) -> "Scope":
        """The scope limited to one workspace the caller asked about (refused when outside)."""
        if workspace_id is None:
            return self
        check_id(workspace_id, "workspace")
        if workspace_id not in self.workspaces:
            raise ScopeError(f"workspace {workspace_id} is outside your scope ({', '.join(self.workspaces)})")
        return Scope((workspace_id,))
