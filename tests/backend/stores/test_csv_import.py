"""Store CSV import: all rows or none, every bad row and column reported; export round-trips."""

from __future__ import annotations

import csv
import io
from typing import Any

HEADER = (
    "code,name,chain,channel,lat,lng,fence_radius_m,opening_hours,frequency,visit_minutes,priority,rep_email,territory"
)


def row(code: str, **cells: Any) -> str:
    values = {
        "code": code,
        "name": f"Shop {code}",
        "chain": "Lawson",
        "channel": "convenience",
        "lat": "31.2304",
        "lng": "121.4737",
        "fence_radius_m": "80",
        "opening_hours": "mon-fri 07:00-12:00 13:00-22:00; sat 08:00-20:00",
        "frequency": "weekly:mon,thu",
        "visit_minutes": "25",
        "priority": "4",
        "rep_email": "",
        "territory": "",
    }
    values.update({k: str(v) for k, v in cells.items()})
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([values[c] for c in HEADER.split(",")])
    return buffer.getvalue()


async def post_csv(client: Any, headers: dict[str, str], text: str | bytes) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return await client.post("/api/v1/stores/import", content=body, headers={**headers, "Content-Type": "text/csv"})


async def store_codes(client: Any, headers: dict[str, str]) -> set[str]:
    response = await client.get("/api/v1/stores", params={"limit": 500}, headers=headers)
    return {s["code"] for s in response.json()["items"]}


async def test_a_good_file_imports_every_row(world, client):
    headers = world.own.auth("admin")
    rep_email = world.own.emails["rep"]
    text = "\n".join([HEADER, row("CSV-1", rep_email=rep_email, territory="Jing'an"), row("CSV-2")]) + "\n"
    response = await post_csv(client, headers, text)
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 0}
    stores = (await client.get("/api/v1/stores", params={"q": "CSV-1"}, headers=headers)).json()["items"]
    store = stores[0]
    assert store["assigned_rep_id"] == str(world.own.users["rep"])
    assert store["territory_id"] == str(world.own.ids["territory"])
    assert store["opening_hours"]["mon"] == [["07:00", "12:00"], ["13:00", "22:00"]]
    assert "sun" not in store["opening_hours"]
    assert store["visit_frequency"] == {"kind": "weekly", "weekdays": ["mon", "thu"], "every_weeks": 1}
    assert store["geofence"] == {"kind": "circle", "radius_m": 80.0}


async def test_one_bad_row_imports_nothing_and_names_the_row(world, client):
    headers = world.own.auth("admin")
    before = await store_codes(client, headers)
    text = "\n".join([HEADER, row("CSV-10"), row("CSV-11", lat="95"), row("CSV-12")])
    response = await post_csv(client, headers, text)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import.invalid_rows"
    assert [e["field"] for e in body["errors"]] == ["rows[3].lat"]
    assert await store_codes(client, headers) == before


async def test_every_problem_of_every_row_is_listed(world, client):
    headers = world.own.auth("admin")
    before = await store_codes(client, headers)
    text = "\n".join(
        [
            HEADER,
            row("CSV-20", channel="spaceport", priority="9", rep_email="nobody@x.test"),
            row("CSV-21", opening_hours="mon 09:00-25:00", frequency="fortnightly"),
            row("CSV-22", territory="Atlantis", fence_radius_m="2"),
            row("CSV-20"),
            row("CSV-23", rep_email=world.own.emails["supervisor"]),  # a supervisor is not a rep
            row("CSV-24", rep_email=world.other.emails["rep"]),  # another tenant's rep
        ]
    )
    response = await post_csv(client, headers, text)
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "rows[2].channel",
        "rows[2].priority",
        "rows[2].rep_email",
        "rows[3].opening_hours",
        "rows[3].frequency",
        "rows[4].territory",
        "rows[4].fence_radius_m",
        "rows[5].code",
        "rows[6].rep_email",
        "rows[7].rep_email",
    }
    assert await store_codes(client, headers) == before


async def test_existing_codes_are_updated_in_the_same_transaction(world, client):
    headers = world.own.auth("admin")
    text = "\n".join([HEADER, row("CSV-30"), row("STORE-1", name="Renamed by import", chain="")])
    response = await post_csv(client, headers, text)
    assert response.json() == {"created": 1, "updated": 1}
    store = (await client.get(f"/api/v1/stores/{world.own.ids['store']}", headers=headers)).json()
    assert store["name"] == "Renamed by import" and store["chain"] is None


async def test_header_encoding_and_content_type_problems(world, client):
    headers = world.own.auth("admin")
    bad_header = await post_csv(client, headers, "code,name,colour\nX,Y,red\n")
    assert bad_header.status_code == 400 and bad_header.json()["code"] == "import.header"
    assert {e["message"] for e in bad_header.json()["errors"]} >= {"unknown column 'colour'", "missing column 'lat'"}
    not_utf8 = await post_csv(client, headers, (HEADER + "\n" + row("CSV-40", name="Caf\u00e9")).encode("latin-1"))
    assert not_utf8.status_code == 400 and not_utf8.json()["code"] == "import.encoding"
    empty = await post_csv(client, headers, HEADER + "\n")
    assert empty.status_code == 400 and empty.json()["code"] == "import.empty"
    as_json = await client.post("/api/v1/stores/import", json={"rows": []}, headers=headers)
    assert as_json.status_code == 400 and as_json.json()["code"] == "import.content_type"
    bom = await post_csv(client, headers, "\ufeff" + HEADER + "\n" + row("CSV-41") + "\n")
    assert bom.status_code == 200


async def test_oversize_file_is_413(world, client, settings):
    filler = "\n".join(row(f"BIG-{i}") for i in range(settings.max_import_bytes // 100 + 10))
    response = await post_csv(client, world.own.auth("admin"), HEADER + "\n" + filler)
    assert response.status_code == 413
    assert response.json()["code"] == "request.too_large"


async def test_export_round_trips_through_import(world, client):
    headers = world.own.auth("admin")
    exported = await client.get("/api/v1/stores/export", headers=headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["code"] for r in rows} == await store_codes(client, headers)
    again = await post_csv(client, headers, exported.text)
    assert again.status_code == 200, again.text
    assert again.json() == {"created": 0, "updated": len(rows)}
    assert (await client.get("/api/v1/stores/export", headers=headers)).text == exported.text


async def test_supervisor_export_holds_only_their_scope(world, client):
    headers = world.own.auth("supervisor")
    exported = await client.get("/api/v1/stores/export", headers=headers)
    codes = {r["code"] for r in csv.DictReader(io.StringIO(exported.text))}
    assert codes == await store_codes(client, headers)
    assert "STORE2-1" in codes and "STORE3-1" not in codes  # a team store in, another team's out
