"""The one way the app reads the lakehouse: SQL over gold and ops, plus the CLI's row tables.

Two implementations: ``spark_queries.SparkQueryLayer`` (embedded default) and
``warehouse_queries.WarehouseQueryLayer`` (a Databricks SQL warehouse, as the signed-in user).
SQL is written once, in Spark SQL, which both run; ``{gold}`` and ``{ops}`` stand for the schemas.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Callable, Protocol

from lakesentinel.opstables import Tables
from lakesentinel.errors import LakeSentinelError


class QueryError(LakeSentinelError):
    """A query the lakehouse refused; the message names the query."""


class QueryLayer(Protocol):
    tables: Tables  # the CLI's row tables: incidents, commands, silences, deliveries

    def rows(self, name: str, sql: str) -> list[dict]:
        """Rows of ``sql`` (``{gold}``/``{ops}`` filled in); ``name`` says which query in errors."""

    def exists(self, layer: str, table: str) -> bool: ...

    def for_user(self, access_token: str | None) -> "QueryLayer":
        """The layer that queries on behalf of this user (itself where there are no users)."""


class TtlCache:
    """Answers kept for a few seconds: pages poll, and many users ask the same thing."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, object]] = {}

    @staticmethod
    def key(*parts: str | None) -> str:
        return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()

    def get(self, key: str, compute: Callable[[], object]) -> object:
        now = self.clock()
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        value = compute()
        with self._lock:
            self._items[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
