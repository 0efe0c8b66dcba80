"""Deterministic identifiers shaped like Databricks' own."""

from __future__ import annotations

import numpy as np


class Ids:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def uuid(self) -> str:
        h = self.rng.bytes(16).hex()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def numeric(self, digits: int) -> str:
        first = int(self.rng.integers(1, 10))
        rest = "".join(str(d) for d in self.rng.integers(0, 10, size=digits - 1))
        return f"{first}{rest}"

    def hex(self, n: int) -> str:
        return self.rng.bytes((n + 1) // 2).hex()[:n]

    def cluster_id(self) -> str:
        return f"{int(self.rng.integers(100, 1300)):04d}-{int(self.rng.integers(0, 999999)):06d}-{self.hex(8)}"
