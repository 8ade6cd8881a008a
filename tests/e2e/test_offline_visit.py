"""A rep's day offline, in a real browser: the app opens with no network, a check-in, an audit, a note and a
reminder are made offline, and once online the server holds exactly that data, once."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Server, db_rows, first_stop, go_offline, go_online, login, screenshot, sync_now

REP = "rep1@demofoods.example"


def test_offline_day_reaches_the_server_once(server: Server, new_phone: Any) -> None:
    stop = first_stop(server, REP)
    context = new_phone(lat=stop["lat"], lng=stop["lng"], accuracy=8)
    page = context.new_page()
    login(page, REP)
    if stop["planned"]:
        page.wait_for_selector("[data-testid=stop]")
    screenshot(page, "today-en")

    go_offline(context)
    page.reload()
    page.wait_for_selector("[data-testid=today]")
    if stop["planned"]:
        page.wait_for_selector("[data-testid=stop]")
    page.wait_for_selector("[data-testid=sync-indicator][data-state=offline]")

    # Check in at the first stop: inside the fence, judged on the phone with no network.
    page.goto(f"/stores/{stop['store_id']}")
    page.wait_for_selector("[data-testid=store]")
    screenshot(page, "store-en")
    page.click("[data-testid=check-in]")
    page.wait_for_selector("[data-testid=verdict][data-verdict=inside]")
    screenshot(page, "check-in-en")
    page.click("[data-testid=confirm-check]")
    page.wait_for_selector("[data-testid=visit]")
    visit_id = page.url.rstrip("/").split("/")[-1]

    # Audit: the first must-stock product out of stock, three facings of the second.
    page.click("[data-testid=open-inspection]")
    page.wait_for_selector("[data-testid=inspection]")
    items = page.locator("[data-testid=item]")
    assert items.count() >= 2, "the demo store has a must-stock list"
    items.nth(0).locator("[data-testid=oos]").click()
    page.wait_for_selector("[data-testid=item][data-audited=yes]")
    for _ in range(3):
        items.nth(1).locator("[data-testid=facings-plus]").click()
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=item]')[1].querySelector('[data-testid=facings] input').value === '3'"
    )
    # Two must-stock products recorded, one of them out of stock: the phone scores it at once.
    assert page.inner_text("[data-testid=score-oos]") == "50%"
    screenshot(page, "inspection-en")
    first_code = items.nth(0).get_attribute("data-product")
    second_code = items.nth(1).get_attribute("data-product")

    # The visit log: a note and a follow-up reminder.
    page.goto(f"/visits/{visit_id}/log")
    page.fill("[data-testid=notes]", "Manager asked for a tasting stand")
    page.select_option("[data-testid=outcome]", "order_taken")
    page.fill("[data-testid=follow-up-text]", "Bring tasting stand brochure")
    page.click("[data-testid=add-follow-up]")
    page.click("body")  # blur: the note is saved
    screenshot(page, "visit-log-en")
    page.wait_for_function("Number(document.querySelector('[data-testid=sync-indicator]').dataset.pending) > 0")
    assert db_rows(server, "SELECT count(*) FROM inspection WHERE visit_id = ?", visit_id)[0][0] == 0

    go_online(context)
    sync_now(page)
    # Sync again: nothing is sent twice.
    sync_now(page)

    visits = db_rows(server, "SELECT state, notes, outcome, check_in_lat, verdict FROM visit WHERE id = ?", visit_id)
    assert visits == [("checked_in", "Manager asked for a tasting stand", "order_taken", visits[0][3], "inside")]
    assert abs(visits[0][3] - stop["lat"]) < 1e-6
    inspections = db_rows(server, "SELECT id FROM inspection WHERE visit_id = ?", visit_id)
    assert len(inspections) == 1
    audited = dict(
        db_rows(
            server,
            "SELECT p.code, i.present || ':' || coalesce(i.facings, '') FROM inspection_item i "
            "JOIN product p ON p.id = i.product_id WHERE i.inspection_id = ?",
            inspections[0][0],
        )
    )
    assert audited == {first_code: "0:0", second_code: "1:3"}
    reminders = db_rows(
        server, "SELECT store_id, visit_id FROM reminder WHERE text = ?", "Bring tasting stand brochure"
    )
    assert reminders == [(stop["store_id"], visit_id)]
    # The server's scores arrived back on the phone.
    page.goto(f"/visits/{visit_id}/inspection")
    page.wait_for_selector("[data-testid=score-total]")
