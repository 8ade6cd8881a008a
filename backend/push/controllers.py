from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.auth.guards import EVERYONE
from backend.deps import Caller, SettingsDep
from backend.fields import Limit, Offset
from backend.paging import Page
from backend.push import inbox, schemas, services
from backend.push.vapid import application_server_key


class PushController(Controller):
    path = "/api/v1/push"
    tags = ["push"]

    @get("/key", guards=EVERYONE, summary="The server's VAPID public key (applicationServerKey)")
    async def key(self, settings: SettingsDep) -> schemas.PushKey:
        return schemas.PushKey(public_key=application_server_key(settings))

    @get("/subscriptions", guards=EVERYONE, summary="The caller's devices that receive notifications")
    async def list_subscriptions(self, principal: Caller) -> list[schemas.Subscription]:
        return await services.list_subscriptions(principal)

    @post(
        "/subscriptions",
        guards=EVERYONE,
        summary="Register this browser's push subscription (PushSubscription.toJSON())",
        description="Only endpoints of known push services, over https, on public addresses (docs/push.md).",
    )
    async def subscribe(
        self, principal: Caller, settings: SettingsDep, data: JSONBody[schemas.SubscriptionCreate]
    ) -> schemas.Subscription:
        return await services.subscribe(principal, data, settings)

    @delete("/subscriptions", guards=EVERYONE, summary="Forget one of the caller's devices", status_code=204)
    async def unsubscribe(self, principal: Caller, data: JSONBody[schemas.SubscriptionDelete]) -> None:
        await services.unsubscribe(principal, data.endpoint)

    @get("/preferences", guards=EVERYONE, summary="Quiet hours and time zone of the caller's notifications")
    async def get_preferences(self, principal: Caller) -> schemas.Preferences:
        return await services.preferences(principal)

    @put("/preferences", guards=EVERYONE, summary="Change quiet hours and time zone")
    async def put_preferences(self, principal: Caller, data: JSONBody[schemas.Preferences]) -> schemas.Preferences:
        return await services.set_preferences(principal, data)


class ReminderController(Controller):
    path = "/api/v1/reminders"
    tags = ["push"]

    @get("/", guards=EVERYONE, summary="The caller's inbox: reminders and alerts (open, upcoming or all)")
    async def inbox(
        self,
        principal: Caller,
        status: FromQuery[schemas.InboxStatus] = "open",
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[schemas.InboxItem]:
        return await inbox.inbox(principal, status=status, limit=limit, offset=offset)

    @post("/{reminder_id:uuid}/snooze", guards=EVERYONE, status_code=200, summary="Remind again later")
    async def snooze(
        self, principal: Caller, reminder_id: FromPath[uuid.UUID], data: JSONBody[schemas.Snooze]
    ) -> schemas.InboxItem:
        return await inbox.snooze(principal, reminder_id, data.minutes)

    @post("/{reminder_id:uuid}/dismiss", guards=EVERYONE, status_code=200, summary="Done: never notify again")
    async def dismiss(self, principal: Caller, reminder_id: FromPath[uuid.UUID]) -> schemas.InboxItem:
        return await inbox.dismiss(principal, reminder_id)
