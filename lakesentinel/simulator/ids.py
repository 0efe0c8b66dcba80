"""Deterministic identifiers shaped like Databricks' own."""

from __future__ import annotations

import numpy as np

_CHUNK = 1 << 16


class Ids:
    """Draws from one generator; random bytes are taken in chunks (numpy's per-call cost dominates)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self._buf = b""
        self._pos = 0

    def _bytes(self, n: int) -> bytes:
        if self._pos + n > len(self._buf):
            self._buf = self.rng.bytes(_CHUNK)
            self._pos = 0
        out = self._buf[self._pos:self._pos + n]
        self._pos += n
        return out

    def uuid(self) -> str:
        h = self._bytes(16).hex()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"

    def numeric(self, digits: int) -> str:
        value = int.from_bytes(self._bytes(8), "big") % (9 * 10 ** (digits - 1))
        return str(10 ** (digits - 1) + value)

    def hex(self, n: int) -> str:
        return self._bytes((n + 1) // 2).hex()[:n]

    def cluster_id(self) -> str:
        a, b = self._bytes(2), self._bytes(3)
        return f"{100 + int.from_bytes(a, 'big') % 1200:04d}-{int.from_bytes(b, 'big') % 1000000:06d}-{self.hex(8)}"
