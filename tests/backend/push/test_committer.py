"""Group commit: every answer is committed before `deliver` returns, and a commit that fails does not strand the
sends still in flight. The database and the push service are stood in for: this is about the task choreography."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from backend.push import delivery
from backend.push.sender import Outcome
from backend.settings import Settings

Record = Callable[[Settings, list[Any]], Awaitable[None]]


class SlowAndFastSender:
    async def send(self, *args: Any, topic: str, **kwargs: Any) -> Outcome:
        await asyncio.sleep(0.01 if topic.endswith("0") else 0.2)
        return Outcome(201)


def stand_ins(monkeypatch: pytest.MonkeyPatch, count: int, record: Record) -> None:
    rows = [
        {"id": i, "attempts": 1, "due_at": None, "subscription_id": i, "reminder": i, "kind": "reminder", "text": "t"}
        | {"urgent": False, "store_id": None, "user_id": None, "endpoint": "e", "p256dh": "p", "auth": "a"}
        | {"reminder_status": "sent"}
        for i in range(count)
    ]

    class Select:
        def where(self, *_: Any) -> Select:
            return self

        async def run(self) -> list[dict[str, Any]]:
            return rows

    async def no_users(_: Any) -> dict[Any, Any]:
        return {}

    monkeypatch.setattr(delivery, "record", record)
    monkeypatch.setattr(delivery.PushDelivery, "select", lambda *_: Select())
    monkeypatch.setattr(delivery, "_users", no_users)
    monkeypatch.setattr(delivery.payload, "message", lambda **_: b"x")
    monkeypatch.setattr(delivery.payload, "topic", lambda r: f"t{r}")


async def test_a_failed_commit_fails_its_own_answers_and_the_rest_are_still_recorded(monkeypatch):
    recorded: list[Any] = []
    calls = 0

    async def record(settings: Settings, answers: list[Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is locked")
        recorded.extend(answers)

    stand_ins(monkeypatch, 4, record)
    sent = await asyncio.wait_for(delivery.deliver(Settings(push_concurrency=4), SlowAndFastSender(), [0, 1, 2, 3]), 5)
    # The fast answer's commit failed (it is sent again when its lease ends); the three slow ones were recorded.
    assert sent == 3 and len(recorded) == 3


@pytest.mark.parametrize("count", [1, 40])
async def test_every_answer_is_committed_before_deliver_returns(monkeypatch, count):
    recorded: list[Any] = []

    async def record(settings: Settings, answers: list[Any]) -> None:
        await asyncio.sleep(0.01)
        recorded.extend(answers)

    stand_ins(monkeypatch, count, record)
    assert await delivery.deliver(Settings(push_concurrency=8), SlowAndFastSender(), list(range(count))) == count
    assert sorted(row["id"] for row, _ in recorded) == list(range(count))
