"""A reminder's push message reaches the installed app: Chromium's DevTools protocol delivers the exact bytes the
server would send (backend.push.payload) to the real service worker, which shows the notification; a click on it
opens the reminder's screen from the phone's replica."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

from backend.push.payload import message
from tests.e2e.conftest import Server, db_rows, login, screenshot, wait_until

REP = "rep2@demofoods.example"


def a_reminder(server: Server) -> dict[str, Any]:
    """One of the rep's open reminders, as the server stores it, and the push message the server would send."""
    rows = db_rows(
        server,
        "SELECT r.id, r.kind, r.text, r.due_at, r.urgent, r.store_id FROM reminder r "
        "JOIN app_user u ON u.id = r.user_id "
        "WHERE u.email = ? AND r.status IN ('pending', 'sent') ORDER BY r.due_at, r.id LIMIT 1",
        REP,
    )
    assert rows, "the demo gives every rep reminders"
    reminder_id, kind, text, due_at, urgent, store_id = rows[0]
    payload = message(
        reminder_id=uuid.UUID(reminder_id),
        kind=kind,
        text=text,
        due_at=dt.datetime.fromisoformat(due_at),
        urgent=bool(urgent),
        store_id=uuid.UUID(store_id) if store_id else None,
        locale="en-GB",
    )
    return {"id": reminder_id, "text": text, "data": payload.decode(), "payload": json.loads(payload)}


def registration_id(cdp: Any, page: Any, scope: str) -> str:
    """The id DevTools gives the app's service worker registration (it announces the registrations when the
    ServiceWorker domain is enabled; its events are dispatched while Playwright waits on the page)."""
    found: dict[str, str] = {}

    def on_registrations(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not registration["isDeleted"]:
                found["id"] = registration["registrationId"]

    def on_versions(event: dict[str, Any]) -> None:
        for version in event["versions"]:
            if version["scriptURL"].startswith(scope) and version["status"] == "activated":
                found.setdefault("id", version["registrationId"])

    cdp.on("ServiceWorker.workerRegistrationUpdated", on_registrations)
    cdp.on("ServiceWorker.workerVersionUpdated", on_versions)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 30
    while "id" not in found:
        assert time.monotonic() < deadline, "DevTools announced no service worker registration"
        page.evaluate("new Promise((resolve) => setTimeout(resolve, 50))")
    return found["id"]


NOTIFICATIONS = """(tag) => navigator.serviceWorker.ready
    .then((r) => r.getNotifications({ tag }))
    .then((ns) => ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })))"""

# DevTools cannot click a notification, so the test dispatches a `notificationclick` event on the worker itself,
# built around the notification it really shows: the same handler a user's tap runs. A synthetic event has no
# lifetime of its own (`waitUntil` throws on an event the browser did not dispatch), so this one collects the
# promises the handler hands to `waitUntil` and waits for them.
CLICK = """async (tag) => {
    const [notification] = await self.registration.getNotifications({ tag });
    if (!notification) throw new Error(`no notification tagged ${tag}`);
    const event = new NotificationEvent("notificationclick", { notification });
    const pending = [];
    Object.defineProperty(event, "waitUntil", { value: (promise) => pending.push(promise) });
    self.dispatchEvent(event);
    await Promise.all(pending);
    return pending.length;
}"""


def test_push_shows_the_reminder_and_a_click_opens_it(server: Server, new_phone: Any) -> None:
    reminder = a_reminder(server)
    context = new_phone()
    page = context.new_page()
    login(page, REP)
    # The replica has the reminder before any push: the screen the notification opens works offline.
    page.goto("/reminders")
    page.wait_for_selector("[data-testid=reminder]")

    cdp = context.new_cdp_session(page)
    registration = registration_id(cdp, page, f"{server.url}/")
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server.url, "registrationId": registration, "data": reminder["data"]},
    )
    tag = f"reminder-{reminder['id']}"
    wait_until(page, f"async (tag) => (await ({NOTIFICATIONS})(tag)).length === 1", tag, what="the notification")
    shown = page.evaluate(NOTIFICATIONS, tag)
    assert shown == [
        {
            "title": "Reminder",
            "body": reminder["text"],
            "tag": tag,
            "data": {"url": f"/reminders/{reminder['id']}", "id": reminder["id"]},
        }
    ]
    assert reminder["payload"]["url"] == f"/reminders/{reminder['id']}"

    # The click: the worker's own handler asks the open window to show the reminder.
    if not context.service_workers:
        context.wait_for_event("serviceworker")
    worker = context.service_workers[0]
    assert worker.evaluate(CLICK, tag) == 1
    detail = page.wait_for_selector(f"[data-testid=reminder-detail][data-reminder-id='{reminder['id']}']")
    assert page.url == f"{server.url}/reminders/{reminder['id']}"
    assert detail.inner_text().count(reminder["text"]) == 1
    assert page.inner_text("[data-testid=reminder-text]") == reminder["text"]
    # The handler closed the notification.
    wait_until(page, f"async (tag) => (await ({NOTIFICATIONS})(tag)).length === 0", tag, what="the notification closed")
    screenshot(page, "push-reminder-en")
