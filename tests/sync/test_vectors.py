"""Runs every language-neutral vector in sync/vectors/ through the Python implementation.

The TypeScript client loads the same files; sync/vectors/README.md describes their format.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sync.changes import CAUSAL_LENGTH, Change, canonical, is_alive, wins
from sync.checksum import checksum, fingerprint, state_checksum
from sync.clock import Clock, ClockError, ClockSkew, Hlc
from sync.merge import Replica
from sync.messages import decode_request, decode_response, encode_json, encode_msgpack
from sync.protocol import Limits, SyncRefused, handle
from sync.store import AllowAll, MemoryStore

VECTORS = Path(__file__).resolve().parents[2] / "sync" / "vectors"
RUNNERS = {"clock.json", "merge.json", "checksum.json", "messages.json", "protocol.json", "canonical.json"}
SHUFFLES = 200


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def params(name: str, key: str = "cases") -> list[Any]:
    return [pytest.param(case, id=case["name"]) for case in load(name)[key]]


def exact(value: Any) -> str:
    """Type-exact comparison form: JSON with sorted keys, so 1 and true (or 0 and false) stay different."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def test_every_vector_file_is_run() -> None:
    assert {path.name for path in VECTORS.glob("*.json")} == RUNNERS


# canonical.json


@pytest.mark.parametrize("case", params("canonical.json"))
def test_canonical_vector(case: dict[str, Any]) -> None:
    assert canonical(case["value"]) == case["canonical"].encode()


@pytest.mark.parametrize("case", params("canonical.json", "wins"))
def test_tie_break_vector(case: dict[str, Any]) -> None:
    a, b = (msgspec.convert(case[k], Change) for k in ("a", "b"))
    winner, loser = (a, b) if case["winner"] == "a" else (b, a)
    assert wins(winner, loser) and not wins(loser, winner)


# clock.json


def _clock_step(clock: Clock, step: dict[str, Any]) -> Hlc:
    if step["op"] == "now":
        return clock.now()
    remote = step["remote"]
    return clock.receive(Hlc.parse(remote["stamp"], remote["node"]))


@pytest.mark.parametrize("case", params("clock.json"))
def test_clock_vector(case: dict[str, Any]) -> None:
    physical = [0]
    clock = Clock(case["node"], physical=lambda: physical[0], max_drift_ms=case["max_drift_ms"])
    for number, step in enumerate(case["steps"]):
        if step["op"] == "parse":
            if "error" in step:
                with pytest.raises(ValueError):
                    Hlc.parse(step["stamp"], case["node"])
            else:
                parsed = Hlc.parse(step["stamp"], case["node"])
                assert {"wall": parsed.wall, "counter": parsed.counter} == step["expect"], f"step {number}"
            continue
        physical[0] = step["physical"]
        before = clock.last
        if "error" in step:
            with pytest.raises(ClockError) as raised:
                _clock_step(clock, step)
            assert isinstance(raised.value, ClockSkew) == (step["error"] == "skew"), f"step {number}"
            assert clock.last == before, f"step {number}: a refused step must leave the clock unchanged"
        else:
            stamp = _clock_step(clock, step)
            assert {"stamp": stamp.stamp, "node": stamp.node} == step["expect"], f"step {number}"


# merge.json


def _orders(count: int) -> Iterator[list[int]]:
    """The given order, its reverse, then every permutation (or seeded shuffles when there are too many)."""
    given = list(range(count))
    yield given
    yield given[::-1]
    if count <= 6:
        yield from (list(order) for order in itertools.permutations(given))
    else:
        shuffler = random.Random(count)
        for _ in range(SHUFFLES):
            yield shuffler.sample(given, count)


def _merged(replica: Replica, tables: set[str]) -> dict[str, Any]:
    tombstones = sorted(
        [table, row]
        for (table, row), fields in replica.fields.items()
        if CAUSAL_LENGTH in fields and not is_alive(fields[CAUSAL_LENGTH].value)
    )
    winners = {
        f"{c.table}/{c.row}/{c.column}": {"hlc": c.hlc, "node": c.node, "value": c.value} for c in replica.changes()
    }
    return {"rows": {table: replica.rows(table) for table in tables}, "tombstones": tombstones, "winners": winners}


@pytest.mark.parametrize("case", params("merge.json"))
def test_merge_vector(case: dict[str, Any]) -> None:
    changes = [msgspec.convert(c, Change) for c in case["changes"]]
    tables = {c.table for c in changes}
    expected = {**case["expect"], "tombstones": sorted(case["expect"]["tombstones"])}
    assert set(expected["rows"]) == tables, "the vector must list every table it touches"
    for order in _orders(len(changes)):
        replica = Replica()
        replica.apply_all(changes[i] for i in order)
        assert exact(_merged(replica, tables)) == exact(expected), f"changes applied in the order {order}"


# checksum.json


@pytest.mark.parametrize("case", params("checksum.json", "fingerprints"))
def test_fingerprint_vector(case: dict[str, Any]) -> None:
    parts = (case["table"], case["row"], case["column"], case["hlc"], case["node"])
    assert fingerprint(*parts) == case["fingerprint"]


@pytest.mark.parametrize("case", params("checksum.json", "checksums"))
def test_checksum_vector(case: dict[str, Any]) -> None:
    versions = [Change(table=t, row=r, column=c, value=None, hlc=h, node=n) for t, r, c, h, n in case["versions"]]
    assert checksum(versions) == case["checksum"]
    assert checksum(reversed(versions)) == case["checksum"]


@pytest.mark.parametrize("case", params("checksum.json", "states"))
def test_state_checksum_vector(case: dict[str, Any]) -> None:
    changes = [msgspec.convert(c, Change) for c in case["changes"]]
    assert state_checksum(changes) == case["checksum"]
    replica = Replica()
    replica.apply_all(changes)
    assert state_checksum(replica.changes()) == case["checksum"]


# messages.json

DECODERS = {"request": decode_request, "response": decode_response}


@pytest.mark.parametrize("case", params("messages.json", "valid"))
def test_valid_message_vector_round_trips_to_the_same_bytes(case: dict[str, Any]) -> None:
    decode = DECODERS[case["type"]]
    text = case["json"].encode()
    packed = bytes.fromhex(case["msgpack"])
    from_json = decode(text)
    from_msgpack = decode(packed, msgpack=True)
    assert encode_json(from_json) == text
    assert encode_msgpack(from_msgpack) == packed
    assert encode_msgpack(from_json) == packed, "the JSON and MessagePack forms must carry the same message"
    assert encode_json(from_msgpack) == text


@pytest.mark.parametrize("case", params("messages.json", "invalid"))
def test_invalid_message_vector_fails_to_decode(case: dict[str, Any]) -> None:
    decode = DECODERS[case["type"]]
    with pytest.raises(msgspec.DecodeError):
        if "json" in case:
            decode(case["json"].encode())
        else:
            decode(bytes.fromhex(case["msgpack"]), msgpack=True)


# protocol.json


def test_protocol_vector_defaults_are_the_engine_defaults() -> None:
    assert Limits(**load("protocol.json")["defaults"]["limits"]) == Limits()


def _observed(response: Any, expect: dict[str, Any]) -> dict[str, Any]:
    observed = {
        "results": [
            {key: value for key, value in msgspec.to_builtins(r).items() if key in ("status", "code", "field")}
            for r in response.results
        ],
        "changes": msgspec.to_builtins(response.changes),
        "cursor": response.cursor,
        "has_more": response.has_more,
        "server_time": response.server_time,
        "checksum": response.checksum,
    }
    return {key: observed[key] for key in expect}


@pytest.mark.parametrize("case", params("protocol.json"))
async def test_protocol_vector(case: dict[str, Any]) -> None:
    server = case["server"]
    limits = Limits(**{**load("protocol.json")["defaults"]["limits"], **server.get("limits", {})})
    clock = Clock(server["node"], physical=lambda: server["physical"])
    store = MemoryStore()
    for number, step in enumerate(case["steps"]):
        request = decode_request(json.dumps(step["request"]).encode())
        run = handle(
            request,
            store=store,
            policy=AllowAll(),
            clock=clock,
            schema_versions=server["schema_versions"],
            limits=limits,
        )
        if "error" in step:
            with pytest.raises(SyncRefused) as refused:
                await run
            assert {"code": refused.value.code, "status": refused.value.status} == step["error"], f"step {number}"
            continue
        response = await run
        assert exact(_observed(response, step["expect"])) == exact(step["expect"]), f"step {number}"
