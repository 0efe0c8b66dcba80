"""What injected scenarios change in the organisation's behaviour, looked up by the generators.

>>> e = Effects()
>>> e.add("warehouse_latency", "wh1", 100, 200, 6.0)
>>> e.value("warehouse_latency", "wh1", 150), e.value("warehouse_latency", "wh1", 250)
(6.0, None)
"""

from __future__ import annotations

from collections import defaultdict


class Effects:
    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], list[tuple[int, int, object]]] = defaultdict(list)

    def add(self, kind: str, entity: str, start: int, end: int, value: object = 1.0) -> None:
        self._windows[(kind, entity)].append((start, end, value))

    def value(self, kind: str, entity: str, t: int):
        for start, end, value in self._windows.get((kind, entity), ()):
            if start <= t < end:
                return value
        return None

    def overlapping(self, kind: str, entity: str, start: int, end: int) -> list[tuple[int, int, object]]:
        return [w for w in self._windows.get((kind, entity), ()) if w[0] < end and start < w[1]]
