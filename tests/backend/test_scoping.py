"""Each role sees exactly its scope: a rep their stores, a supervisor their team, an admin the organisation."""

from __future__ import annotations

from typing import Any


async def ids(client: Any, path: str, headers: dict[str, str], **params: Any) -> set[str]:
    response = await client.get(path, params={"limit": 500, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


async def test_rep_lists_only_their_stores(world, client):
    t = world.own
    assert await ids(client, "/api/v1/stores", t.auth("rep")) == {str(t.ids["store"])}
    assert await ids(client, "/api/v1/stores", t.auth("rep3")) == {str(t.ids["store3"])}


async def test_rep_cannot_read_a_colleagues_store(world, client):
    t = world.own
    response = await client.get(f"/api/v1/stores/{t.ids['store2']}", headers=t.auth("rep"))
    assert response.status_code == 404


async def test_supervisor_sees_their_team_and_their_territory(world, client):
    t = world.own
    assert await ids(client, "/api/v1/stores", t.auth("supervisor")) == {str(t.ids["store"]), str(t.ids["store2"])}
    assert await ids(client, "/api/v1/stores", t.auth("supervisor2")) == {str(t.ids["store3"])}
    team = await ids(client, "/api/v1/users", t.auth("supervisor"))
    assert team == {str(t.users[w]) for w in ("supervisor", "rep", "rep2")}
    out_of_team = await client.get(f"/api/v1/users/{t.users['rep3']}", headers=t.auth("supervisor"))
    assert out_of_team.status_code == 404


async def test_supervisor_sees_stores_of_their_territory_even_when_unassigned(world, client):
    t = world.own
    created = await client.post(
        "/api/v1/stores",
        json={
            "code": "TERR-1",
            "name": "Unassigned in Jing'an",
            "channel": "traditional",
            "lat": 31.22,
            "lng": 121.44,
            "territory_id": str(t.ids["territory"]),
        },
        headers=t.auth("admin"),
    )
    assert created.status_code == 201
    assert created.json()["id"] in await ids(client, "/api/v1/stores", t.auth("supervisor"))
    assert created.json()["id"] not in await ids(client, "/api/v1/stores", t.auth("supervisor2"))


async def test_admin_sees_the_whole_organisation_and_nothing_else(world, client):
    t, other = world.own, world.other
    stores = await ids(client, "/api/v1/stores", t.auth("admin"))
    assert {str(t.ids[k]) for k in ("store", "store2", "store3")} <= stores
    assert not stores & {str(other.ids[k]) for k in ("store", "store2", "store3")}
    users = await ids(client, "/api/v1/users", t.auth("admin"))
    assert {str(u) for u in t.users.values()} <= users
    assert not users & {str(u) for u in other.users.values()}


async def test_filters_narrow_within_scope(world, client):
    t = world.own
    by_rep = await ids(client, "/api/v1/stores", t.auth("admin"), assigned_rep_id=str(t.users["rep2"]))
    assert by_rep == {str(t.ids["store2"])}
    # A rep filtering for a colleague's stores gets nothing, not the colleague's stores.
    assert await ids(client, "/api/v1/stores", t.auth("rep"), assigned_rep_id=str(t.users["rep2"])) == set()
    found = await ids(client, "/api/v1/products", t.auth("rep"), barcode="6901234567892")
    assert found == {str(t.ids["product"])}


async def test_paging_pages_through_everything_once(world, client):
    headers = world.own.auth("admin")
    seen: list[str] = []
    offset = 0
    while True:
        page = (await client.get("/api/v1/stores", params={"limit": 2, "offset": offset}, headers=headers)).json()
        seen += [s["id"] for s in page["items"]]
        offset += 2
        if offset >= page["total"]:
            break
    assert len(seen) == len(set(seen)) == page["total"]
