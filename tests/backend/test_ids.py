"""Batched UUIDv7s are what new_id() makes: version 7, RFC variant, the current millisecond, all distinct."""

from __future__ import annotations

import time
import uuid

from backend.tables_base import new_id, new_ids


def test_batched_ids_are_uuid7_of_now() -> None:
    before = time.time_ns() // 1_000_000
    ids = new_ids(5_000)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 5_000
    for value in ids:
        assert type(value) is uuid.UUID  # the SQLite driver adapts only uuid.UUID itself
        assert value.version == 7 and value.variant == uuid.RFC_4122
        assert before <= value.int >> 80 <= after
    assert new_ids(0) == []
    assert new_id().int >> 80 >= before
