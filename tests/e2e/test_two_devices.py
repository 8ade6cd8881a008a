"""Two phones of one rep edit the same visit offline and converge once online.

Device A checks in at a store of the rep and starts the shelf inspection; both phones sync, so B has the visit
and the inspection. Both go offline. Reps cannot write store rows over sync, so "the same store note" is the
note of the visit at that store (`visit.notes`): A writes it first, then B, so B's stamp is the later one. Each
audits a different must-stock product of the one inspection (A: the first out of stock; B: facings of the
second), and both edit different fields of the third (A: facings; B: quantity). Back online, each syncs twice so
each pulls what the other sent. The server then holds B's note (the last writer wins, per field), every audited
field, and one inspection; both phones show that same note and those same items, and their replicas are equal
(the same checksum).
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Server, db_rows, go_offline, go_online, login, screenshot, sync_now, wait_until

REP = "rep2@demofoods.example"
NOTE_A = "Device A: the manager wants a second chiller"
NOTE_B = "Device B: chiller agreed, delivery on Friday"

# What a phone's replica holds for the visit's inspections: their ids, and each item's audited fields by product.
REPLICA_AUDIT = """async (visitId) => {
    const db = window.__fieldbook.internals.db();
    const live = (rows) => rows.filter((r) => r.cl !== null && r.cl % 2 === 1);
    const value = (r, column) => (r.f[column] === undefined ? null : r.f[column].v);
    const inspections = live(await db.rows.where("t").equals("inspection").toArray())
        .filter((r) => value(r, "visit_id") === visitId)
        .map((r) => r.id);
    const items = {};
    for (const r of live(await db.rows.where("t").equals("inspection_item").toArray())) {
        if (!inspections.includes(value(r, "inspection_id"))) continue;
        items[value(r, "product_id")] = {
            present: value(r, "present"),
            facings: value(r, "facings"),
            quantity: value(r, "quantity"),
        };
    }
    return { inspections: inspections.sort(), items };
}"""

NOTE_VERSION = """async (visitId) => {
    const row = await window.__fieldbook.internals.db().rows.get(["visit", visitId]);
    return row && row.f.notes ? { value: row.f.notes.v, stamp: row.f.notes.h } : null;
}"""


def open_inspection(page: Any, visit_id: str) -> Any:
    page.goto(f"/visits/{visit_id}/inspection")
    page.wait_for_selector("[data-testid=inspection]")
    page.wait_for_selector("[data-testid=item]")
    return page.locator("[data-testid=item]")


def facings_are(page: Any, nth: int, value: str) -> None:
    page.wait_for_function(
        "([nth, value]) => document.querySelectorAll('[data-testid=item]')[nth]"
        ".querySelector('[data-testid=facings] input').value === value",
        arg=[nth, value],
    )


def write_note(page: Any, visit_id: str, text: str) -> dict[str, str]:
    """Type the visit's note on the log screen and leave the field (it is saved on blur); returns its version."""
    page.goto(f"/visits/{visit_id}/log")
    page.wait_for_selector("[data-testid=visit-log]")
    page.fill("[data-testid=notes]", text)
    page.click("[data-testid=next-steps]")  # blur: the note is saved
    wait_until(
        page,
        f"async ([id, text]) => ((await ({NOTE_VERSION})(id)) || {{}}).value === text",
        [visit_id, text],
        what="the note saved",
    )
    version: dict[str, str] = page.evaluate(NOTE_VERSION, visit_id)
    return version


def shown_note(page: Any, visit_id: str, expected: str) -> str:
    page.goto(f"/visits/{visit_id}/log")
    page.wait_for_selector("[data-testid=visit-log]")
    page.wait_for_function(
        "(text) => document.querySelector('[data-testid=notes]').value === text", arg=expected, timeout=10_000
    )
    return str(page.input_value("[data-testid=notes]"))


def test_two_devices_edit_one_visit_offline_and_converge(server: Server, new_phone: Any) -> None:
    store = server.get(REP, "/stores", limit=1)["items"][0]
    a = new_phone(lat=store["lat"], lng=store["lng"], accuracy=8)
    b = new_phone(lat=store["lat"], lng=store["lng"], accuracy=8)
    page_a, page_b = a.new_page(), b.new_page()
    login(page_a, REP)
    login(page_b, REP)

    # A checks in inside the fence and starts the inspection: the third must-stock product is on the shelf.
    page_a.goto(f"/stores/{store['id']}")
    page_a.click("[data-testid=check-in]")
    page_a.wait_for_selector("[data-testid=verdict][data-verdict=inside]")
    page_a.click("[data-testid=confirm-check]")
    page_a.wait_for_selector("[data-testid=visit]")
    visit_id = page_a.url.rstrip("/").split("/")[-1]
    page_a.click("[data-testid=open-inspection]")
    items_a = page_a.locator("[data-testid=item]")
    page_a.wait_for_selector("[data-testid=item]")
    assert items_a.count() >= 3, "the demo store has a must-stock list"
    codes = [items_a.nth(i).get_attribute("data-product") for i in range(3)]
    items_a.nth(2).locator("[data-testid=present]").click()
    page_a.wait_for_selector(f"[data-testid=item][data-product='{codes[2]}'][data-audited=yes]")
    sync_now(page_a)
    inspection_ids = [row[0] for row in db_rows(server, "SELECT id FROM inspection WHERE visit_id = ?", visit_id)]
    assert len(inspection_ids) == 1

    # B gets the visit and the inspection.
    sync_now(page_b)
    items_b = open_inspection(page_b, visit_id)
    assert [items_b.nth(i).get_attribute("data-product") for i in range(3)] == codes
    page_b.wait_for_selector(f"[data-testid=item][data-product='{codes[2]}'][data-audited=yes]")
    assert page_b.evaluate(REPLICA_AUDIT, visit_id)["inspections"] == inspection_ids

    go_offline(a)
    go_offline(b)
    for page in (page_a, page_b):
        page.reload()
        page.wait_for_selector("[data-testid=sync-indicator][data-state=offline]")

    # The note: A first, then B (B's stamp is later).
    note_a = write_note(page_a, visit_id, NOTE_A)
    note_b = write_note(page_b, visit_id, NOTE_B)
    assert note_b["stamp"] > note_a["stamp"]

    # A: the first product out of stock, one facing of the third.
    items_a = open_inspection(page_a, visit_id)
    items_a.nth(0).locator("[data-testid=oos]").click()
    page_a.wait_for_selector(f"[data-testid=item][data-product='{codes[0]}'][data-audited=yes]")
    items_a.nth(2).locator("[data-testid=facings-plus]").click()
    facings_are(page_a, 2, "1")
    screenshot(page_a, "two-devices-a-offline-en")

    # B: two facings of the second product, a quantity of one for the third.
    items_b = open_inspection(page_b, visit_id)
    items_b.nth(1).locator("[data-testid=facings-plus]").click()
    facings_are(page_b, 1, "1")
    items_b.nth(1).locator("[data-testid=facings-plus]").click()
    facings_are(page_b, 1, "2")
    items_b.nth(2).locator("[data-testid=item-toggle]").click()
    items_b.nth(2).locator("[data-testid=quantity-plus]").click()
    page_b.wait_for_function(
        "() => document.querySelectorAll('[data-testid=item]')[2].querySelector('[data-testid=quantity] input')"
        ".value === '1'"
    )
    screenshot(page_b, "two-devices-b-offline-en")
    # Nothing has reached the server yet.
    assert db_rows(server, "SELECT notes FROM visit WHERE id = ?", visit_id) == [("",)]

    # Online: each syncs twice, so each pulls what the other sent.
    go_online(a)
    go_online(b)
    for page in (page_a, page_b, page_a, page_b):
        sync_now(page)

    # The server: B's note, every audited field, one inspection.
    assert db_rows(server, "SELECT notes FROM visit WHERE id = ?", visit_id) == [(NOTE_B,)]
    assert [row[0] for row in db_rows(server, "SELECT id FROM inspection WHERE visit_id = ?", visit_id)] == (
        inspection_ids
    )
    audited = {
        code: (present, facings, quantity)
        for code, present, facings, quantity in db_rows(
            server,
            "SELECT p.code, i.present, i.facings, i.quantity FROM inspection_item i "
            "JOIN product p ON p.id = i.product_id WHERE i.inspection_id = ?",
            inspection_ids[0],
        )
    }
    product_ids = dict(db_rows(server, "SELECT code, id FROM product WHERE code IN (?, ?, ?)", *codes))
    assert audited == {codes[0]: (0, 0, 0), codes[1]: (1, 2, None), codes[2]: (1, 1, 1)}

    # Both phones: the same note on the log screen, the same items, the same replica.
    for page in (page_a, page_b):
        assert shown_note(page, visit_id, NOTE_B) == NOTE_B
    audit_a = page_a.evaluate(REPLICA_AUDIT, visit_id)
    audit_b = page_b.evaluate(REPLICA_AUDIT, visit_id)
    assert audit_a == audit_b
    assert audit_a["inspections"] == inspection_ids
    assert audit_a["items"] == {
        product_ids[code]: {"present": bool(present), "facings": facings, "quantity": quantity}
        for code, (present, facings, quantity) in audited.items()
    }
    shown: dict[str, list[tuple[Any, Any]]] = {}
    for name, page in (("a", page_a), ("b", page_b)):
        items = open_inspection(page, visit_id)
        facings_are(page, 1, "2")
        facings_are(page, 2, "1")
        shown[name] = [
            (items.nth(i).get_attribute("data-product"), items.nth(i).get_attribute("data-audited")) for i in range(3)
        ]
        assert "oos" in (items.nth(0).get_attribute("class") or "")
    assert shown["a"] == shown["b"] == [(code, "yes") for code in codes]
    checksums = [page.evaluate("window.__fieldbook.internals.replicaChecksum()") for page in (page_a, page_b)]
    assert checksums[0] == checksums[1]
    screenshot(page_b, "two-devices-converged-en")
