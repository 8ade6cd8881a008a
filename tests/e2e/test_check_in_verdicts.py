"""The check-in screen judges the phone's position against the store's fence with no network at all: inside at
the store with a good fix, uncertain (accuracy too poor) at the store with a 500 m fix, outside 2 km away. A
check-in made anyway from outside reaches the server once the phone is online, and the server flags it."""

from __future__ import annotations

import json
import math
from typing import Any

from tests.e2e.conftest import Server, db_rows, go_offline, go_online, login, screenshot, sync_now, wait_until

REP = "rep3@demofoods.example"
AWAY_M = 2000.0


def north_of(lat: float, metres: float) -> float:
    return lat + math.degrees(metres / 6_371_000)


def verdict(page: Any, name: str, reason: str) -> Any:
    return page.wait_for_selector(f"[data-testid=verdict][data-verdict={name}][data-reason={reason}]")


def move(context: Any, *, lat: float, lng: float, accuracy: float) -> None:
    """The phone is somewhere else: the screen follows the position (the emulated one is sent to its watch)."""
    context.set_geolocation({"latitude": lat, "longitude": lng, "accuracy": accuracy})


def test_verdicts_offline_and_the_server_flags_an_outside_check_in(server: Server, new_phone: Any) -> None:
    store = server.get(REP, "/stores", limit=1)["items"][0]
    lat, lng = store["lat"], store["lng"]
    away = north_of(lat, AWAY_M)
    context = new_phone(lat=away, lng=lng, accuracy=10)
    page = context.new_page()
    login(page, REP)
    go_offline(context)
    check_in_screen = f"/stores/{store['id']}/check-in"
    page.goto(f"/stores/{store['id']}")
    page.wait_for_selector("[data-testid=store]")
    page.wait_for_selector("[data-testid=sync-indicator][data-state=offline]")
    page.click("[data-testid=check-in]")
    page.wait_for_selector("[data-testid=check-in-screen]")
    assert page.url == f"{server.url}{check_in_screen}"

    # (a) 2 km away with a good fix: outside, the advice, and the button to check in anyway.
    verdict(page, "outside", "beyond_fence")
    assert "away from the store" in page.inner_text("[data-testid=advice]")
    assert page.inner_text("[data-testid=confirm-check]") == "Check in anyway"
    assert page.inner_text("[data-testid=retry-fix]") == "Locate again"
    screenshot(page, "check-in-outside-en")

    # (b) At the store, but a 500 m fix: uncertain because the accuracy is too poor, the advice, and the button.
    # The screen keeps the best fix seen while it waits, so a worse one only shows after "locate again".
    move(context, lat=lat, lng=lng, accuracy=500)
    page.click("[data-testid=retry-fix]")
    verdict(page, "uncertain", "accuracy_too_poor")
    assert "not precise enough" in page.inner_text("[data-testid=advice]")
    assert "Accuracy 500 m" in page.inner_text("[data-testid=verdict-detail]")
    assert page.inner_text("[data-testid=confirm-check]") == "Check in anyway"
    assert page.inner_text("[data-testid=retry-fix]") == "Wait for a better fix"
    screenshot(page, "check-in-uncertain-en")

    # (c) At the store with 10 m accuracy: inside at once (a better fix replaces the worse one), no advice, the
    # plain check-in button.
    move(context, lat=lat, lng=lng, accuracy=10)
    verdict(page, "inside", "within_fence")
    assert page.locator("[data-testid=advice]").count() == 0
    assert page.locator("[data-testid=retry-fix]").count() == 0
    assert page.inner_text("[data-testid=confirm-check]") == "Check in"
    screenshot(page, "check-in-inside-en")

    # Back 2 km away (a fix as good replaces the last one): the rep checks in anyway, still offline.
    move(context, lat=away, lng=lng, accuracy=10)
    verdict(page, "outside", "beyond_fence")
    page.click("[data-testid=confirm-check]")
    page.wait_for_selector("[data-testid=visit]")
    visit_id = page.url.rstrip("/").split("/")[-1]
    wait_until(
        page,
        "async (id) => (await window.__fieldbook.internals.db().outbox.toArray())"
        ".some((e) => e.change.table === 'visit' && e.change.row === id && e.change.column === 'check_in_lat')",
        visit_id,
        what="the check-in in the outbox",
    )
    page.wait_for_selector("[data-testid=sync-indicator][data-state=offline]")
    assert db_rows(server, "SELECT count(*) FROM visit WHERE id = ? AND check_in_at IS NOT NULL", visit_id) == [(0,)]

    # Online: the check-in reaches the server, which judges it outside and flags it.
    go_online(context)
    sync_now(page)
    rows = db_rows(
        server, "SELECT state, verdict, verdict_distance_m, flags, check_in_lat FROM visit WHERE id = ?", visit_id
    )
    assert len(rows) == 1
    state, server_verdict, distance, flags, check_in_lat = rows[0]
    assert (state, server_verdict) == ("checked_in", "outside")
    assert abs(check_in_lat - away) < 1e-6
    assert 1000 < distance <= AWAY_M
    assert "outside_fence" in [flag["code"] for flag in json.loads(flags)]
    # The server's verdict and its flag come back to the phone.
    page.wait_for_selector("[data-testid=server-verdict]")
    assert page.inner_text("[data-testid=server-verdict]") == "Outside the store's area"
    page.wait_for_selector("[data-testid=flags]")
