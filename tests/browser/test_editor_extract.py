"""The editors' page "From an article" panel (issue 17) in headless Chromium against the real
service: paste an article, review the drafts POST /v1/extract reads from it (edit, drop,
regroup, grade the sources), then reconcile one quantity through the form.

Each test leaves a screenshot in ``artifacts/browser/`` (git-ignored), for a person to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest
from flask import Flask
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import emulate, screenshot
from tests.browser.test_editor_page import PHONE, estimate_shown, plot_loaded, wait_for

#: The seed article (BBC News Mundo, 23 October 2024, in English); the shared seed's copy.
SEED: Final = Path(__file__).resolve().parents[2] / "fixtures" / "extract" / "seed_article.txt"
PUBLISHED: Final = "2024-10-23"
SPANISH: Final = (
    "El Servicio Nacional de Inteligencia de Corea del Sur dijo el viernes que unos 1.500 "
    "soldados norcoreanos ya están en Rusia, aunque otras fuentes hablan de hasta 12.000."
)


@pytest.fixture(scope="module")
def article() -> str:
    return SEED.read_text(encoding="utf-8")


def paste(page: Chrome, text: str, published: str = "") -> None:
    """Put ``text`` in the article box as a paste would (typing 6,000 characters is slow)."""
    page.execute_script(
        "const [box, date, text, day] = arguments;"
        "box.value = text; box.dispatchEvent(new Event('input', {bubbles: true}));"
        "date.value = day;",
        page.find_element(By.ID, "article-text"),
        page.find_element(By.ID, "article-published"),
        text,
        published,
    )


def draft_claims(page: Chrome) -> None:
    page.find_element(By.ID, "article-read").click()


def groups(page: Chrome) -> list[WebElement]:
    return page.find_elements(By.CSS_SELECTOR, "#article-groups > .draft-group")


def drafted(page: Chrome) -> list[WebElement] | None:
    found = groups(page)
    return found if found and page.find_element(By.ID, "article-drafts").is_displayed() else None


def card(page: Chrome, figure: str) -> WebElement:
    """The draft card of the figure written ``figure``."""
    for item in page.find_elements(By.CSS_SELECTOR, "li.draft"):
        if item.find_element(By.CSS_SELECTOR, "blockquote mark").text == figure:
            return item
    raise AssertionError(f"no draft card for {figure!r}")


def figures_in(group: WebElement) -> list[str]:
    return [m.text for m in group.find_elements(By.CSS_SELECTOR, "li.draft blockquote mark")]


def in_card(item: WebElement, name: str) -> WebElement:
    return item.find_element(By.CSS_SELECTOR, f'[data-field="{name}"]')


def chosen(item: WebElement, name: str) -> str | None:
    """The value chosen in a card's select ``name``."""
    return Select(in_card(item, name)).first_selected_option.get_attribute("value")


def mark_of(page: Chrome, item: WebElement) -> WebElement:
    """The figure's mark in the article text, for the draft card ``item``."""
    draft = item.get_attribute("data-draft")
    return page.find_element(By.CSS_SELECTOR, f'#article-view a[data-draft="{draft}"]')


def grade(page: Chrome, source_name: str, letter: str) -> None:
    for item in page.find_elements(By.CSS_SELECTOR, "#article-sources li"):
        if item.find_element(By.CSS_SELECTOR, ".source-name").text == source_name:
            Select(item.find_element(By.TAG_NAME, "select")).select_by_value(letter)
            return
    raise AssertionError(f"no source {source_name!r} to grade")


def sent_body(page: Chrome) -> dict[str, Any]:
    """The body the form sends now (the form filled by "Reconcile this quantity")."""
    body: dict[str, Any] = page.execute_script(
        "return import('/static/editor/form.js').then((m) => "
        "new m.CaseForm(document.getElementById('case')).toRequest());"
    )
    return body


@pytest.fixture
def seed_drafts(page: Chrome, article: str) -> Chrome:
    """The page with the seed article pasted and its drafts shown."""
    paste(page, article, PUBLISHED)
    draft_claims(page)
    wait_for(page, drafted, "no drafts appeared")
    return page


def test_seed_article_drafts_and_reconciles_the_troop_group(
    seed_drafts: Chrome, live_app: Flask
) -> None:
    page = seed_drafts
    troops = groups(page)[0]
    assert figures_in(troops) == ["thousands", "1,500", "12,000", "10,000"]
    cards = {f: card(page, f) for f in ("1,500", "10,000", "12,000")}
    nis, zelensky, anonymous = cards["1,500"], cards["10,000"], cards["12,000"]
    assert "South Korean National Intelligence Service (NIS)" in nis.text
    assert "Volodymyr Zelensky" in zelensky.text
    assert "Other sources to South Korean media" in anonymous.text
    # Each draft's reading, as fields the editor can change.
    assert in_card(nis, "as_of").get_attribute("value") == "2024-10-18"  # "Last Friday"
    assert Select(in_card(zelensky, "kind")).first_selected_option.text == "up to"
    assert chosen(zelensky, "horizon") == "total"
    assert chosen(anonymous, "hedge") == "could_be"
    assert in_card(anonymous, "value").get_attribute("value") == "12,000"
    meta = anonymous.find_element(By.CSS_SELECTOR, ".draft-meta").text
    assert "confidence 0.80" in meta and "“final figure”" in meta
    # The text shows every drafted figure marked, each tagged with its quantity's number.
    marks = page.find_elements(By.CSS_SELECTOR, "#article-view a.figure-mark")
    tagged = [(m.find_element(By.TAG_NAME, "mark").text, m.find_element(By.TAG_NAME, "sup").text)
              for m in marks]
    assert ("1,500", "1") in tagged and ("12,000", "1") in tagged and ("10,000", "1") in tagged
    assert ("13,000", "3") in tagged and ("8 million", "4") in tagged
    # Four other quantities kept apart, each its own group.
    assert [figures_in(g) for g in groups(page)[1:]] == [
        ["hundreds"], ["13,000"], ["8 million"], ["1.3 million"]]
    screenshot(page, "extract-seed-drafts")

    # Drop the US's vague "thousands", grade the three sources, reconcile.
    thousands = card(page, "thousands")
    thousands.find_element(By.CSS_SELECTOR, "button.drop").click()
    assert "dropped" in str(thousands.get_attribute("class"))
    grade(page, "South Korean National Intelligence Service (NIS)", "B")
    grade(page, "Volodymyr Zelensky", "C")
    troops.find_element(By.CSS_SELECTOR, "button.reconcile-group").click()

    wait_for(page, estimate_shown, "no estimate after reconciling the troop group")
    summary = page.find_element(By.ID, "summary").text
    assert summary
    body = sent_body(page)
    assert body["question"] == "soldiers" and body["unit"] == "soldiers"
    assert "dynamics" not in body and all("horizon" not in c for c in body["claims"])
    assert [(c["source"], c["kind"], c["value"]) for c in body["claims"]] == [
        ("south-korean-national-intelligence-service-nis", "point", 1500),
        ("other-sources-to-south-korean-media", "point", 12000),
        ("volodymyr-zelensky", "at_most", 10000),
    ]
    assert {s["id"]: s["reliability"] for s in body["sources"]} == {
        "south-korean-national-intelligence-service-nis": "B",
        "other-sources-to-south-korean-media": "F",
        "volodymyr-zelensky": "C",
    }
    # The page shows what the API answers for what the form sends.
    answer = live_app.test_client().post("/v1/reconcile", json=body).get_json()
    assert summary == answer["summary"]["text"]
    wait_for(page, plot_loaded, "the plot did not load")
    screenshot(page, "extract-seed-reconciled")


def test_a_dropped_draft_is_not_sent_and_can_be_kept_again(seed_drafts: Chrome) -> None:
    page = seed_drafts
    twelve = card(page, "12,000")
    drop = twelve.find_element(By.CSS_SELECTOR, "button.drop")
    drop.click()
    assert drop.text == "Keep" and drop.get_attribute("aria-pressed") == "true"
    assert not in_card(twelve, "value").is_enabled()
    mark = mark_of(page, twelve)
    assert "dropped" in str(mark.get_attribute("class"))
    groups(page)[0].find_element(By.CSS_SELECTOR, "button.reconcile-group").click()
    wait_for(page, estimate_shown, "no estimate")
    values = [c.get("value", (c.get("low"), c.get("high"))) for c in sent_body(page)["claims"]]
    assert 12000 not in values and len(values) == 3

    drop.click()  # kept again: sent again
    assert drop.text == "Drop" and in_card(twelve, "value").is_enabled()
    groups(page)[0].find_element(By.CSS_SELECTOR, "button.reconcile-group").click()
    wait_for(page, lambda d: len(sent_body(d)["claims"]) == 4, "the kept draft was not sent")


def test_a_regrouped_draft_moves_and_leaves_its_group(seed_drafts: Chrome) -> None:
    page = seed_drafts
    ten = card(page, "10,000")
    move = Select(in_card(ten, "group"))
    assert move.first_selected_option.text == "Quantity 1: soldiers"
    move.select_by_visible_text("Quantity 2: North Korean troops")

    troops, second = groups(page)[:2]
    assert figures_in(second) == ["hundreds", "10,000"]
    assert "10,000" not in figures_in(troops)
    assert page.switch_to.active_element == in_card(ten, "group")  # the keyboard stays with it
    mark = mark_of(page, ten)
    assert mark.find_element(By.TAG_NAME, "sup").text == "2"
    assert "Moved 10,000" in page.find_element(By.ID, "article-status").text

    # "a new quantity" makes a group of its own, named after the draft's unit.
    Select(in_card(card(page, "12,000"), "group")).select_by_value("new")
    newest = groups(page)[-1]
    assert figures_in(newest) == ["12,000"]
    assert newest.find_element(By.CSS_SELECTOR, ".group-title").text == "Quantity 6: soldiers"
    screenshot(page, "extract-regrouped")

    troops.find_element(By.CSS_SELECTOR, "button.reconcile-group").click()
    wait_for(page, estimate_shown, "no estimate")
    assert [c.get("value") for c in sent_body(page)["claims"]] == [None, 1500]


def test_an_edited_draft_is_sent_as_edited_and_a_bad_figure_is_marked(seed_drafts: Chrome) -> None:
    page = seed_drafts
    for figure in ("thousands", "12,000"):
        card(page, figure).find_element(By.CSS_SELECTOR, "button.drop").click()
    nis = card(page, "1,500")
    value = in_card(nis, "value")
    value.clear()
    value.send_keys("many")
    troops = groups(page)[0]
    troops.find_element(By.CSS_SELECTOR, "button.reconcile-group").click()
    error = nis.find_element(By.CSS_SELECTOR, ".field-error")
    assert "Type a figure" in error.text
    assert value.get_attribute("aria-invalid") == "true"
    assert page.switch_to.active_element == value

    value.clear()
    value.send_keys("2k")
    Select(in_card(nis, "hedge")).select_by_value("about")
    troops.find_element(By.CSS_SELECTOR, "button.reconcile-group").click()
    wait_for(page, estimate_shown, "no estimate")
    first = sent_body(page)["claims"][0]
    assert (first["value"], first["hedge"], first["as_of"]) == (2000, "about", "2024-10-18")
    assert not nis.find_elements(By.CSS_SELECTOR, ".field-error")


def test_a_quantity_that_moves_is_reconciled_with_its_horizons(seed_drafts: Chrome) -> None:
    page = seed_drafts
    card(page, "thousands").find_element(By.CSS_SELECTOR, "button.drop").click()
    troops = groups(page)[0]
    Select(troops.find_element(By.CSS_SELECTOR, '[data-field="dynamics"]')).select_by_value(
        "cumulative")
    troops.find_element(By.CSS_SELECTOR, "button.reconcile-group").click()
    wait_for(page, estimate_shown, "no estimate for the moving quantity")
    body = sent_body(page)
    assert body["dynamics"] == "cumulative"
    assert [(c["value"], c["horizon"], c.get("as_of")) for c in body["claims"]] == [
        (1500, "level", "2024-10-18"), (12000, "total", None), (10000, "total", None)]
    assert page.find_element(By.ID, "time-box").is_displayed()
    assert "Eventual total" in page.find_element(By.ID, "time-total").text


def test_non_english_text_gets_a_plain_message(page: Chrome) -> None:
    box = page.find_element(By.ID, "article-text")
    box.send_keys(SPANISH)
    draft_claims(page)
    message = wait_for(
        page, lambda d: d.find_elements(By.ID, "article-text-error"), "no message for Spanish"
    )[0]
    assert "does not read as English" in message.text
    assert box.get_attribute("aria-invalid") == "true"
    assert box.get_attribute("aria-describedby") == "article-text-error"
    assert page.switch_to.active_element == box
    assert not page.find_element(By.ID, "article-drafts").is_displayed()
    status = page.find_element(By.ID, "article-status")
    assert status.get_attribute("aria-live") == "polite" and "English" in status.text
    screenshot(page, "extract-not-english")


def test_empty_and_oversized_text_get_plain_messages(page: Chrome) -> None:
    draft_claims(page)
    message = page.find_element(By.ID, "article-text-error")
    assert message.text == "Paste an article first."

    paste(page, "x" * (5 * 1024 * 1024))  # over MAX_CONTENT_LENGTH: a 413
    draft_claims(page)
    wait_for(page, lambda d: "too large" in d.find_element(By.ID, "article-text-error").text,
             "no message for a 5 MB paste")


def test_other_refusals_read_as_sentences(page: Chrome) -> None:
    """A 415's detail and a 422's field messages are shown as they are, with no JSON."""
    texts: list[str] = page.execute_script(
        "return import('/static/editor/article.js').then((m) => ["
        "  m.extractProblemText({status: 415, detail: 'Send the article as text.', errors: {}}),"
        "  m.extractProblemText({status: 422, errors: {text: ['Not UTF-8.']}}),"
        "  m.extractProblemText({status: 422, errors: {published: ['Not a valid date.']}}),"
        "]);"
    )
    assert texts == [
        "The service could not take this text: Send the article as text.",
        "Not UTF-8.",
        "published: Not a valid date.",
    ]


def test_text_without_figures_says_so(page: Chrome) -> None:
    paste(page, "The minister spoke at length about the weather and the harvest.")
    draft_claims(page)
    wait_for(page, lambda d: "No figures" in d.find_element(By.ID, "article-status").text,
             "no word about figures")
    assert not page.find_element(By.ID, "article-drafts").is_displayed()


def test_drafts_work_from_the_keyboard_and_are_labelled(seed_drafts: Chrome) -> None:
    page = seed_drafts
    first = page.find_element(By.CSS_SELECTOR, "#article-view a.figure-mark")
    first.send_keys(Keys.ENTER)  # a mark leads to its draft
    title = page.switch_to.active_element
    assert "row-title" in str(title.get_attribute("class")) and "thousands" in title.text
    title.send_keys(Keys.TAB)
    drop = page.switch_to.active_element
    assert drop.text == "Drop"
    drop.send_keys(Keys.SPACE)
    assert drop.text == "Keep"
    unlabelled: list[str] = page.execute_script(
        "return [...document.querySelectorAll('#article input, #article select,"
        " #article textarea, #article button')]"
        ".filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')"
        "  && !(c.tagName === 'BUTTON' && c.textContent.trim()))"
        ".map((c) => c.outerHTML.slice(0, 80));"
    )
    assert unlabelled == []
    ids: list[str] = page.execute_script(
        "return [...document.querySelectorAll('[id]')].map((e) => e.id);"
    )
    assert len(ids) == len(set(ids)), "ids repeat"


def test_phone_width_drafts_fit(page: Chrome, live_server: str, article: str) -> None:
    emulate(page, PHONE)
    page.get(f"{live_server}/")
    paste(page, article, PUBLISHED)
    draft_claims(page)
    wait_for(page, drafted, "no drafts on the phone")
    width, wide = page.execute_script(
        "const width = document.documentElement.clientWidth;"
        "const wide = [...document.querySelectorAll('#article *')].filter((e) => {"
        "  const r = e.getBoundingClientRect();"
        "  return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5);"
        "}).map((e) => e.tagName + '#' + e.id + '.' + e.className);"
        "return [width, wide.slice(0, 5)];"
    )
    assert width == PHONE[0] and wide == [], f"overflows: {wide}"
    page.execute_script("document.querySelector('#article-groups').scrollIntoView()")
    screenshot(page, "extract-phone", full_page=False)
