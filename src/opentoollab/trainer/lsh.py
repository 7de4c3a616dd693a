"""A compact LSH index over MinHash signatures: the candidates datasketch's ``MinHashLSH`` gives, in a small
fraction of its memory, so near-duplicate detection stays within bounds at millions of samples.

Same banding as ``MinHashLSH(threshold, num_perm)`` (``b`` bands of ``r`` values, from datasketch's own
parameter choice); a stored signature is a candidate when one of its bands equals the query's band.

Memory per stored signature (~0.9 KB at 128 permutations, against ~3.9 KB for datasketch):

- the signature as ``uint32`` values (datasketch's hash values are masked to 32 bits, so this is exact),
  in fixed-size blocks: the index never copies what it holds to grow;
- per band, an open-addressing table (64-bit key of the band's values → the last row stored with that
  band, numpy storage, no Python object per entry) and a chain of earlier rows with the same key
  (``int32`` per row and band). Every hit is checked against the stored band, so a key collision
  never adds a candidate: the candidate sets are exactly datasketch's.

The work is done on whole batches of signatures with numpy (``band_keys``, ``lookup``, ``insert_many``):
a band key is computed once per signature and serves both the query and the insertion, and the
per-signature Python work is left to the few signatures that have a candidate (``candidates``).
``query``/``insert`` are the one-signature forms.
"""

from __future__ import annotations

import numpy as np

BLOCK = 1 << 15  # signatures per storage block
MASK64 = (1 << 64) - 1
TAIL = 48  # probes left to finish one by one (numpy rounds cost more than that)
_MIX = np.uint64(0xBF58476D1CE4E5B9)


def _multipliers(count: int) -> np.ndarray:
    """Odd 64-bit constants, one per value of a band (a fixed linear hash; collisions are checked anyway)."""
    return np.array([(0x9E3779B97F4A7C15 * (2 * i + 1) + 0x632BE59BD9B4E019 * i) & MASK64 | 1 for i in range(count)],
                    dtype=np.uint64)


# datasketch's choice for settings in use (``_optimal_param(threshold, num_perm, 0.5, 0.5)``, checked by a
# test): working it out imports scipy, which a process that only looks up signatures does not need
KNOWN_BANDS = {(0.8, 128): (9, 13), (0.9, 128): (5, 25), (0.7, 128): (14, 9)}


def bands_and_rows(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) that ``MinHashLSH(threshold, num_perm)`` chooses by default."""
    known = KNOWN_BANDS.get((threshold, num_perm))
    if known is not None:
        return known
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


class BandIndex:
    START = 1 << 12  # slots per band table at first

    def __init__(self, threshold: float, num_perm: int) -> None:
        self.b, self.r = bands_and_rows(threshold, num_perm)
        self.ranges = [(i * self.r, (i + 1) * self.r) for i in range(self.b)]
        self._mult = _multipliers(self.r)
        self._blocks: list[np.ndarray] = []  # signatures, BLOCK rows each
        self._chains: list[np.ndarray] = []  # per row and band: the previous row with the same band key (-1: none)
        self._count = 0
        self._table(self.START)

    def _table(self, capacity: int) -> None:
        """Empty tables of ``capacity`` slots for every band (band ``k`` owns slots ``k * capacity …``)."""
        self._cap = capacity
        self._keys = np.zeros(self.b * capacity, dtype=np.uint64)
        self._heads = np.full(self.b * capacity, -1, dtype=np.int32)  # rows < 2**31
        self._used = np.zeros(self.b, dtype=np.int64)

    def __len__(self) -> int:
        return self._count

    def row(self, index: int) -> np.ndarray:
        """The stored signature of row ``index``."""
        return self._blocks[index // BLOCK][index % BLOCK]

    # --- batches ---------------------------------------------------------------------------------------

    def band_keys(self, values: np.ndarray) -> np.ndarray:
        """64-bit keys of every band of every signature: ``(signatures, b)`` ``uint64``."""
        bands = values[:, : self.b * self.r].reshape(len(values), self.b, self.r).astype(np.uint64)
        keys = (bands * self._mult).sum(axis=2, dtype=np.uint64)
        keys ^= keys >> np.uint64(31)
        keys *= _MIX
        keys ^= keys >> np.uint64(29)
        return keys

    def _find(self, bands: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """The slot of each (band, key): where it is stored, else the empty slot where probing stops."""
        mask = self._cap - 1
        base = bands.astype(np.int64) * self._cap
        pos = (keys & np.uint64(mask)).astype(np.int64)
        slots = np.empty(len(keys), dtype=np.int64)
        pending = np.arange(len(keys))
        while pending.size > TAIL:  # probing rounds for all keys at once
            slot = base[pending] + pos[pending]
            done = (self._heads[slot] < 0) | (self._keys[slot] == keys[pending])
            slots[pending[done]] = slot[done]
            pending = pending[~done]
            pos[pending] = (pos[pending] + 1) & mask
        heads, stored = self._heads, self._keys
        for item in pending.tolist():  # the few long probes, one by one
            key, start, offset = int(keys[item]), int(base[item]), int(pos[item])
            while heads[start + offset] >= 0 and int(stored[start + offset]) != key:
                offset = (offset + 1) & mask
            slots[item] = start + offset
        return slots

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """For ``band_keys``: the last stored row with each band key (``-1``: none), same shape."""
        bands = np.broadcast_to(np.arange(self.b), keys.shape).ravel()
        return self._heads[self._find(bands, keys.ravel())].reshape(keys.shape)

    def _place(self, bands: np.ndarray, keys: np.ndarray, heads: np.ndarray) -> None:
        """Store (band, key) → head for keys not in the table yet (unique per band)."""
        mask = self._cap - 1
        base = bands.astype(np.int64) * self._cap
        pos = (keys & np.uint64(mask)).astype(np.int64)
        pending = np.arange(len(keys))
        while pending.size > TAIL:
            slot = base[pending] + pos[pending]
            free = self._heads[slot] < 0
            claims, claimed = pending[free], slot[free]
            self._keys[claimed] = keys[claims]  # one of the claimants of a slot wins it (keys are unique)
            won = self._keys[claimed] == keys[claims]
            self._heads[claimed[won]] = heads[claims[won]]
            placed = np.zeros(len(pending), dtype=bool)
            placed[np.flatnonzero(free)[won]] = True
            pending = pending[~placed]
            pos[pending] = (pos[pending] + 1) & mask  # their slot is taken now
        for item in pending.tolist():
            start, offset = int(base[item]), int(pos[item])
            while self._heads[start + offset] >= 0:
                offset = (offset + 1) & mask
            self._keys[start + offset], self._heads[start + offset] = keys[item], heads[item]
        np.add.at(self._used, bands, 1)

    def _grow(self, incoming: int) -> None:
        """Keep every table at most half full once ``incoming`` more keys per band arrive."""
        capacity = self._cap
        while 2 * (int(self._used.max()) + incoming) > capacity:
            capacity *= 2
        if capacity == self._cap:
            return
        occupied = np.flatnonzero(self._heads >= 0)
        bands, keys, heads = occupied // self._cap, self._keys[occupied], self._heads[occupied]
        self._table(capacity)
        late = []
        for band in range(self.b):  # into empty tables: linear probing positions by sorting, no probing rounds
            mine = np.flatnonzero(bands == band)
            homes = (keys[mine] & np.uint64(capacity - 1)).astype(np.int64)
            order = np.argsort(homes, kind="stable")
            mine, homes = mine[order], homes[order]
            steps = np.arange(len(mine))
            slots = steps + np.maximum.accumulate(homes - steps) if len(mine) else steps  # first free slot ≥ home
            fits = slots < capacity
            self._keys[band * capacity + slots[fits]] = keys[mine[fits]]
            self._heads[band * capacity + slots[fits]] = heads[mine[fits]]
            self._used[band] = int(fits.sum())
            late.append(mine[~fits])  # past the end: they wrap around to the start
        late = np.concatenate(late)
        if len(late):
            self._place(bands[late], keys[late], heads[late])

    def _set_chains(self, rows: np.ndarray, bands: np.ndarray, previous: np.ndarray) -> None:
        blocks = rows // BLOCK
        for block in np.unique(blocks).tolist():
            pick = blocks == block
            self._chains[block][rows[pick] % BLOCK, bands[pick]] = previous[pick]

    def insert_many(self, values: np.ndarray, keys: np.ndarray) -> int:
        """Store signatures (``uint32`` rows) whose ``band_keys`` are ``keys``; returns the first row number."""
        first, count = self._count, len(values)
        if not count:
            return first
        done = 0
        while done < count:  # signatures into blocks
            index = first + done
            if index % BLOCK == 0:
                self._blocks.append(np.empty((BLOCK, values.shape[1]), dtype=np.uint32))
                self._chains.append(np.empty((BLOCK, self.b), dtype=np.int32))
            take = min(count - done, BLOCK - index % BLOCK)
            self._blocks[-1][index % BLOCK: index % BLOCK + take] = values[done: done + take]
            done += take
        self._count += count
        self._grow(count)
        rows = np.repeat(np.arange(first, first + count, dtype=np.int64), self.b)
        bands, flat = np.tile(np.arange(self.b, dtype=np.int64), count), keys.ravel()
        order = np.lexsort((rows, flat, bands))  # by band, key, row
        rows, bands, flat = rows[order], bands[order], flat[order]
        same = (bands[1:] == bands[:-1]) & (flat[1:] == flat[:-1])  # same key as the row before it
        self._set_chains(rows[1:][same], bands[1:][same], rows[:-1][same])
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        ends = np.flatnonzero(np.concatenate((~same, [True])))
        slots = self._find(bands[starts], flat[starts])
        previous = self._heads[slots]
        self._set_chains(rows[starts], bands[starts], previous)
        known = previous >= 0
        self._heads[slots[known]] = rows[ends][known]
        new = ~known
        self._place(bands[ends][new], flat[ends][new], rows[ends][new].astype(np.int32))
        return first

    def candidates(self, values: np.ndarray, heads: np.ndarray) -> set[int]:
        """Stored rows sharing a whole band with ``values``, given its ``lookup`` heads."""
        found: set[int] = set()
        for band, (start, end) in enumerate(self.ranges):
            index = int(heads[band])
            while index >= 0:
                if index not in found and np.array_equal(self.row(index)[start:end], values[start:end]):
                    found.add(index)
                index = int(self._chains[index // BLOCK][index % BLOCK, band])
        return found

    # --- one signature ---------------------------------------------------------------------------------

    def query(self, values: np.ndarray) -> list[int]:
        """Rows sharing at least one whole band with ``values``, in insertion order."""
        values = as_uint32(values)
        return sorted(self.candidates(values, self.lookup(self.band_keys(values[None]))[0]))

    def insert(self, values: np.ndarray) -> int:
        """Store a signature; returns its row number."""
        values = as_uint32(values)[None]
        return self.insert_many(values, self.band_keys(values))


def as_uint32(values: np.ndarray) -> np.ndarray:
    """MinHash values as stored: ``uint32`` (datasketch masks them to 32 bits; anything wider is refused)."""
    values = np.asarray(values)
    if values.dtype == np.uint32:
        return values
    if values.size and int(values.max()) > 0xFFFFFFFF:
        raise ValueError("MinHash values beyond 32 bits: not a datasketch signature")
    return values.astype(np.uint32)
