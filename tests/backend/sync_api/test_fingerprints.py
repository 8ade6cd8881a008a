"""The batched fingerprints equal the protocol's definition, one at a time, for every kind of key."""

from __future__ import annotations

import random

from backend.sync_api.fingerprints import fingerprints
from sync.changes import Change
from sync.checksum import change_fingerprint


def _text(rng: random.Random, longest: int) -> str:
    alphabet = "abcxyz_-0189" + "é中文🚚\x1f\x00"  # multi-byte UTF-8, the separator itself, NUL
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))


def test_batched_fingerprints_equal_the_definition() -> None:
    rng = random.Random(7)
    changes = [
        Change(_text(rng, 12), _text(rng, 40), _text(rng, 20), None, _text(rng, 16), _text(rng, 30))
        for _ in range(2_000)
    ]
    changes.append(Change("", "", "", None, "", ""))  # the shortest key there is
    changes.append(Change("visit", "0" * 500, "notes", "x", "0" * 16, "dev-1"))  # far longer than the rest
    assert fingerprints(changes) == [change_fingerprint(c) for c in changes]


def test_no_changes_no_fingerprints() -> None:
    assert fingerprints([]) == []
