"""One root exception, narrow subclasses: callers catch what they can handle, the CLI prints the rest."""

from __future__ import annotations


class LakeSentinelError(Exception):
    """Root of every error lakesentinel raises on purpose; its message is meant for a user."""


class ConfigError(LakeSentinelError):
    """A setting is missing or wrong; the message names the key and the file (or variable)."""


class SetupError(LakeSentinelError):
    """The machine is not set up (virtual environment, Delta jars)."""


class SchemaMismatchError(LakeSentinelError):
    """Data whose columns or types do not fit a table; ``mismatches`` lists each one."""

    def __init__(self, where: str, mismatches: list[str]):
        self.where = where
        self.mismatches = list(mismatches)
        lines = "\n".join(f"  - {m}" for m in self.mismatches)
        super().__init__(f"{where}: {len(self.mismatches)} mismatch(es) with the table schema:\n{lines}")
