"""A compact LSH index over MinHash signatures: the candidates datasketch's ``MinHashLSH`` gives, in a third
of the memory, so near-duplicate detection stays within bounds at millions of samples.

Same banding as ``MinHashLSH(threshold, num_perm)`` (``b`` bands of ``r`` values, from datasketch's own
parameter choice); a stored signature is a candidate when one of its bands equals the query's band.
Signatures live in one growing numpy matrix (the index of a row is the order of insertion), and each
band table maps a hash of the band's bytes to row numbers; every hit is checked against the stored
band, so a hash collision never adds a candidate: the candidate sets are exactly datasketch's.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class BandIndex:
    def __init__(self, threshold: float, num_perm: int) -> None:
        from datasketch.lsh import _optimal_param

        self.b, self.r = _optimal_param(threshold, num_perm, 0.5, 0.5)  # what MinHashLSH chooses by default
        self.ranges = [(i * self.r, (i + 1) * self.r) for i in range(self.b)]
        self._tables: list[dict[int, Any]] = [{} for _ in range(self.b)]
        self._rows: np.ndarray | None = None
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def row(self, index: int) -> np.ndarray:
        """The stored signature of row ``index``."""
        return self._rows[index]

    def query(self, values: np.ndarray) -> list[int]:
        """Rows sharing at least one whole band with ``values``, in insertion order."""
        found: set[int] = set()
        for (start, end), table in zip(self.ranges, self._tables):
            hit = table.get(hash(values[start:end].tobytes()))
            if hit is None:
                continue
            for index in (hit,) if isinstance(hit, int) else hit:
                if index not in found and np.array_equal(self._rows[index, start:end], values[start:end]):
                    found.add(index)
        return sorted(found)

    def insert(self, values: np.ndarray) -> int:
        """Store a signature; returns its row number."""
        if self._rows is None:
            self._rows = np.empty((1024, len(values)), dtype=values.dtype)
        elif self._count == len(self._rows):
            grown = np.empty((len(self._rows) * 5 // 4 + 1024, self._rows.shape[1]), dtype=self._rows.dtype)
            grown[: self._count] = self._rows
            self._rows = grown
        index = self._count
        self._rows[index] = values
        self._count += 1
        for (start, end), table in zip(self.ranges, self._tables):
            key = hash(values[start:end].tobytes())
            hit = table.get(key)
            if hit is None:
                table[key] = index
            elif isinstance(hit, int):
                table[key] = [hit, index]
            else:
                hit.append(index)
        return index
