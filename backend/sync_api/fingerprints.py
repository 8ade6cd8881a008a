"""The checksum fingerprints of many versions at once (sync/checksum.py defines them, one at a time).

A push stores hundreds of versions, each with its FNV-1a fingerprint; one at a time in Python that was a fifth
of a push's CPU (bench/sync_ingest.py). Here every byte position of all the keys is one numpy step: FNV-1a is
sequential within a key, not across keys. The same numbers as `sync.checksum.fingerprint`, which stays the
definition (and pure Python, for clients).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sync.changes import Change

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fingerprints(changes: Sequence[Change]) -> list[int]:
    """`sync.checksum.change_fingerprint` of each change, in order."""
    if not changes:
        return []
    keys = ["\x1f".join((c.table, c.row, c.column, c.hlc, c.node)).encode() for c in changes]
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
    width = int(lengths.max())
    data = np.frombuffer(b"".join(k.ljust(width, b"\0") for k in keys), dtype=np.uint8).reshape(len(keys), width)
    # Below 2**32 times a 25-bit prime: the products fit in 64 bits, so uint64 arithmetic is exact.
    value = np.full(len(keys), _FNV_OFFSET, dtype=np.uint64)
    prime, mask = np.uint64(_FNV_PRIME), np.uint64(0xFFFFFFFF)
    for position in range(width):
        stepped = ((value ^ data[:, position]) * prime) & mask
        value = np.where(lengths > position, stepped, value)
    return [int(v) for v in value]
