"""Screenshots of every screen on a 390x844 phone in both languages, into test-artifacts/screenshots/
(`<screen>-en.png`, `<screen>-zh-CN.png`). The app takes the browser's language; on each screen the test checks
the title and the navigation are in that language and waits for the screen's data before the shot. The English
phone also switches the language in the settings and back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import PASSWORD, Server, first_stop, login, screenshot, wait_until

# The title in the header of each screen, and the navigation's "Today", in each language (pwa/src/i18n/).
TITLES = {
    "today": {"en": "Today", "zh-CN": "今日"},
    "stores": {"en": "Stores", "zh-CN": "门店"},
    "store": {"en": "Store", "zh-CN": "门店"},
    "check-in": {"en": "Check in", "zh-CN": "签到"},
    "visit": {"en": "Visit", "zh-CN": "拜访"},
    "inspection": {"en": "Shelf inspection", "zh-CN": "货架检查"},
    "visit-log": {"en": "Visit log", "zh-CN": "拜访记录"},
    "reminders": {"en": "Reminders", "zh-CN": "提醒"},
    "reminder": {"en": "Reminder", "zh-CN": "提醒"},
    "settings": {"en": "Settings", "zh-CN": "设置"},
}
LOGIN = {"en": "Log in", "zh-CN": "登录"}
NOTES = {"en": "Manager asked for a tasting stand", "zh-CN": "店长希望增加试吃台"}
FOLLOW_UP = {"en": "Bring the tasting stand brochure", "zh-CN": "带上试吃台宣传册"}
SAVED = {"en": "Reminder saved.", "zh-CN": "提醒已保存。"}

LANGUAGES = [
    pytest.param("en", "en-GB", "rep4@demofoods.example", id="en"),
    pytest.param("zh-CN", "zh-CN", "rep5@demofoods.example", id="zh-CN"),
]


def shot(page: Any, screen: str, lang: str) -> None:
    """Check the screen is in `lang`, then take its screenshot."""
    page.wait_for_function(
        "(title) => document.querySelector('header.top h1')?.textContent === title", arg=TITLES[screen][lang]
    )
    assert page.inner_text("[data-testid=nav-today]").strip().endswith(TITLES["today"][lang])
    assert page.evaluate("document.documentElement.lang") == lang
    if lang == "zh-CN":
        assert page.is_visible("text=今日")
    screenshot(page, f"{screen}-{lang}")


@pytest.mark.parametrize(("lang", "locale", "rep"), LANGUAGES)
def test_every_screen(server: Server, new_phone: Any, lang: str, locale: str, rep: str) -> None:
    stop = first_stop(server, rep)
    # A phone in the demo organisation's city keeps its time zone.
    context = new_phone(lat=stop["lat"], lng=stop["lng"], accuracy=8, locale=locale, timezone="Asia/Shanghai")
    # The maps draw markers without tiles; no tile is fetched from the internet in a test.
    context.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    page = context.new_page()

    page.goto("/")
    page.wait_for_selector("#email")
    assert page.inner_text("[data-testid=login-submit]") == LOGIN[lang]
    page.fill("#email", rep)
    page.fill("#password", PASSWORD)
    screenshot(page, f"login-{lang}")

    login(page, rep)
    if stop["planned"]:
        page.wait_for_selector("[data-testid=stop]")
    else:
        page.wait_for_selector("[data-testid=today] p.empty")
    shot(page, "today", lang)

    page.click("[data-testid=nav-stores]")
    page.wait_for_selector("[data-testid=store-link]")
    shot(page, "stores", lang)

    page.goto(f"/stores/{stop['store_id']}")
    page.wait_for_selector("[data-testid=store-name]")
    page.wait_for_selector("[data-testid=check-in]")
    shot(page, "store", lang)

    page.click("[data-testid=check-in]")
    page.wait_for_selector("[data-testid=verdict][data-verdict=inside]")
    shot(page, "check-in", lang)

    page.click("[data-testid=confirm-check]")
    page.wait_for_selector("[data-testid=visit-state]")
    visit_id = page.url.rstrip("/").split("/")[-1]
    shot(page, "visit", lang)

    page.click("[data-testid=open-inspection]")
    page.wait_for_selector("[data-testid=item]")
    items = page.locator("[data-testid=item]")
    items.nth(0).locator("[data-testid=oos]").click()
    items.nth(1).locator("[data-testid=facings-plus]").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=item]')[1].querySelector('[data-testid=facings] input')"
        ".value === '1'"
    )
    shot(page, "inspection", lang)

    page.goto(f"/visits/{visit_id}/log")
    page.wait_for_selector("[data-testid=visit-log]")
    page.select_option("[data-testid=outcome]", "order_taken")
    page.fill("[data-testid=notes]", NOTES[lang])
    page.fill("[data-testid=follow-up-text]", FOLLOW_UP[lang])
    page.click("[data-testid=add-follow-up]")
    page.wait_for_selector(f"[role=status]:has-text('{SAVED[lang]}')")
    wait_until(
        page,
        "async ([id, text]) => (await window.__fieldbook.internals.db().rows.get(['visit', id])).f.notes?.v === text",
        [visit_id, NOTES[lang]],
        what="the note saved",
    )
    shot(page, "visit-log", lang)

    page.click("[data-testid=nav-reminders]")
    page.wait_for_selector(f"[data-testid=reminder]:has-text('{FOLLOW_UP[lang]}')")
    shot(page, "reminders", lang)

    page.click(f"[data-testid=reminder]:has-text('{FOLLOW_UP[lang]}')")
    page.wait_for_selector("[data-testid=reminder-detail]")
    assert page.inner_text("[data-testid=reminder-text]") == FOLLOW_UP[lang]
    shot(page, "reminder", lang)

    page.click("[data-testid=nav-settings]")
    page.wait_for_selector("[data-testid=sync-status]")
    assert "on" in (page.get_attribute(f"[data-testid=lang-{lang}]", "class") or "").split()
    shot(page, "settings", lang)

    if lang == "en":
        # The language buttons switch the whole app at once, and back.
        page.click("[data-testid=lang-zh-CN]")
        page.wait_for_function("() => document.querySelector('[data-testid=nav-today]').textContent.includes('今日')")
        assert page.inner_text("header.top h1") == TITLES["settings"]["zh-CN"]
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        page.click("[data-testid=lang-en]")
        page.wait_for_function("() => document.querySelector('[data-testid=nav-today]').textContent.includes('Today')")
        assert page.inner_text("header.top h1") == TITLES["settings"]["en"]
