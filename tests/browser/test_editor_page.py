"""The editors' page end to end in headless Chromium against the real service.

Each test leaves a screenshot in ``artifacts/browser/`` (git-ignored), for a person to look at.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final, TypeVar

import pytest
from flask import Flask
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import emulate, screenshot
from tests.conftest import TROOP_CASE

T = TypeVar("T")
WAIT_S: Final = 20.0
PHONE: Final = (375, 812)


def wait_for(driver: Chrome, condition: Callable[[Chrome], T | None], message: str) -> T:
    """What ``condition`` returns once it is truthy; fails after WAIT_S seconds."""
    result = WebDriverWait(driver, WAIT_S).until(condition, message)
    assert result is not None  # until() returns only a truthy value
    return result


def field(driver: Chrome, path: str) -> WebElement:
    """The form control the API calls ``path`` (``claims.0.value``)."""
    return driver.find_element(By.CSS_SELECTOR, f'[data-path="{path}"]')


def retype(element: WebElement, text: str) -> None:
    element.clear()
    element.send_keys(text)


def reconcile(driver: Chrome) -> None:
    driver.find_element(By.ID, "submit").click()


def estimate_shown(driver: Chrome) -> str | None:
    body = driver.find_element(By.ID, "result-body")
    text = driver.find_element(By.ID, "estimate").text
    return text if body.is_displayed() and text else None


def plot_loaded(driver: Chrome) -> bool:
    loaded: Any = driver.execute_script(
        "const img = document.getElementById('plot');"
        "return !img.hidden && img.complete && img.naturalWidth > 0"
        " && img.src.startsWith('blob:');"
    )
    return bool(loaded)


def error_beside(driver: Chrome, path: str) -> WebElement | None:
    """The error message shown right after the control of ``path``, if any."""
    control = field(driver, path)
    found = driver.execute_script(
        "const next = arguments[0].nextElementSibling;"
        "return next && next.classList.contains('field-error') ? next : null;",
        control,
    )
    return found if isinstance(found, WebElement) else None


def figure(x: float) -> str:
    """A number as the page writes it: three significant digits, thousands separators."""
    digits = 3 - 1 - math.floor(math.log10(abs(x)))
    return f"{round(x, digits):,.0f}" if abs(x) >= 100 else f"{round(x, digits):g}"


@pytest.fixture(scope="module")
def troop_answer(live_app: Flask) -> dict[str, Any]:
    """What POST /v1/reconcile answers for the troop case."""
    response = live_app.test_client().post("/v1/reconcile", json=TROOP_CASE)
    assert response.status_code == 200
    answer: dict[str, Any] = response.get_json()
    return answer


def test_troop_case_gives_estimate_and_plot(page: Chrome, troop_answer: dict[str, Any]) -> None:
    page.find_element(By.ID, "load-example").click()
    assert field(page, "question").get_attribute("value") == "North Korean soldiers in Russia"
    assert len(page.find_elements(By.CSS_SELECTOR, "#claims > li")) == 3

    reconcile(page)

    # The page must show what the API answers (the numbers are the core's business).
    answer = troop_answer
    headline = wait_for(page, estimate_shown, "no estimate appeared")
    assert headline == f"About {figure(answer['estimate']['value'])} soldiers"
    wait_for(page, plot_loaded, "the plot did not load")
    ranges = page.find_element(By.ID, "ranges").text
    for interval in answer["estimate"]["intervals"]:
        level = round(100 * interval["level"])
        assert f"{level}% range: {figure(interval['low'])} to {figure(interval['high'])}" in ranges
    assert page.find_element(By.ID, "explanation").text == answer["explanation"]
    rows = page.find_elements(By.CSS_SELECTOR, "#claims-table tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, "td.weight").text for r in rows] == [
        f"{round(100 * c['weight'])}%" for c in answer["claims"]
    ]
    for row, claim in zip(rows, answer["claims"], strict=True):
        assert ("outlier" in row.text) == claim["outlier"]
    warnings = page.find_elements(By.CSS_SELECTOR, "#warnings li")
    assert [w.get_attribute("data-code") for w in warnings] == [
        w["code"] for w in answer["warnings"]
    ]
    live = page.find_element(By.ID, "status")
    assert live.get_attribute("aria-live") == "polite"
    assert headline.removeprefix("About ") in str(live.get_attribute("textContent"))
    screenshot(page, "troop-case-desktop")


def test_negative_value_on_log_scale_is_shown_beside_the_field(page: Chrome) -> None:
    page.find_element(By.ID, "load-example").click()
    retype(field(page, "claims.0.value"), "-1500")

    reconcile(page)

    message = wait_for(page, lambda d: error_beside(d, "claims.0.value"), "no error by the value")
    assert "positive" in message.text and "log scale" in message.text
    value = field(page, "claims.0.value")
    assert value.get_attribute("aria-invalid") == "true"
    assert str(message.get_attribute("id")) in str(value.get_attribute("aria-describedby"))
    summary = page.find_element(By.ID, "error-summary")
    assert summary.is_displayed() and "Claim 1, value" in summary.text
    assert page.switch_to.active_element == summary
    screenshot(page, "error-negative-value")

    # Correcting the figure clears the error and reconciles.
    retype(field(page, "claims.0.value"), "1,500")
    reconcile(page)
    wait_for(page, estimate_shown, "no estimate after the correction")
    assert error_beside(page, "claims.0.value") is None
    assert not summary.is_displayed()


def test_range_with_low_above_high_is_shown_beside_low(page: Chrome) -> None:
    page.find_element(By.ID, "load-example").click()
    Select(field(page, "claims.1.kind")).select_by_value("range")
    retype(field(page, "claims.1.low"), "9000")
    retype(field(page, "claims.1.high"), "100")

    reconcile(page)

    message = wait_for(page, lambda d: error_beside(d, "claims.1.low"), "no error by low")
    assert "low 9000.0 is above high 100.0" in message.text
    screenshot(page, "error-range-low-above-high")


def test_phone_width_has_no_horizontal_overflow(page: Chrome, live_server: str) -> None:
    emulate(page, PHONE)
    page.get(f"{live_server}/")
    page.find_element(By.ID, "load-example").click()

    def overflow(driver: Chrome) -> list[Any]:
        found: list[Any] = driver.execute_script(
            "const width = document.documentElement.clientWidth;"
            "const wide = [...document.querySelectorAll('body *')].filter((e) => {"
            # The plot and the tables scroll inside their own frames; the frames must fit.
            "  const inner = '.plot-frame *, .table-wrap *';"
            "  if (e.matches(inner)) return false;"
            "  const r = e.getBoundingClientRect();"
            "  if (r.width === 0 || e.closest('.skip')) return false;"
            "  return r.right > width + 0.5 || r.left < -0.5;"
            "}).map((e) => e.tagName + '#' + e.id + '.' + e.className);"
            "return [document.documentElement.scrollWidth, width, wide.slice(0, 5)];"
        )
        return found

    scroll_width, width, wide = overflow(page)
    assert width == PHONE[0]
    assert scroll_width <= width and wide == [], f"overflows the form: {wide}"
    screenshot(page, "phone-form", full_page=False)

    reconcile(page)
    wait_for(page, estimate_shown, "no estimate on the phone")
    wait_for(page, plot_loaded, "no plot on the phone")
    scroll_width, width, wide = overflow(page)
    assert scroll_width <= width and wide == [], f"overflows the results: {wide}"
    screenshot(page, "phone-result", full_page=False)
    page.execute_script("document.getElementById('plot-figure').scrollIntoView()")
    screenshot(page, "phone-plot", full_page=False)


def test_keyboard_alone_loads_and_reconciles(page: Chrome, troop_answer: dict[str, Any]) -> None:
    body = page.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(30):
        if page.switch_to.active_element.get_attribute("id") == "load-example":
            break
        page.switch_to.active_element.send_keys(Keys.TAB)
    else:
        raise AssertionError("Load example cannot be reached with Tab")
    page.switch_to.active_element.send_keys(Keys.ENTER)
    assert page.switch_to.active_element.get_attribute("id") == "q-question"

    page.switch_to.active_element.send_keys(Keys.ENTER)  # Enter in a field submits the form

    headline = wait_for(page, estimate_shown, "Enter did not reconcile")
    assert headline == f"About {figure(troop_answer['estimate']['value'])} soldiers"


def test_every_control_has_a_label(page: Chrome) -> None:
    page.find_element(By.ID, "load-example").click()
    unlabelled: list[str] = page.execute_script(
        "return [...document.querySelectorAll('input, select, textarea, button')]"
        ".filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')"
        "  && !(c.tagName === 'BUTTON' && c.textContent.trim()))"
        ".map((c) => c.outerHTML.slice(0, 80));"
    )
    assert unlabelled == []


def test_result_leads_with_the_summary_and_lists_the_findings(
    page: Chrome, troop_answer: dict[str, Any]
) -> None:
    page.find_element(By.ID, "load-example").click()
    reconcile(page)
    wait_for(page, estimate_shown, "no estimate appeared")

    summary = page.find_element(By.ID, "summary")
    assert summary.text == troop_answer["summary"]["text"]
    # The summary comes first: above the computed figure, the paragraph and the findings.
    later = [page.find_element(By.ID, i) for i in ("estimate", "explanation", "findings")]
    assert all(summary.location["y"] < element.location["y"] for element in later)
    findings = page.find_elements(By.CSS_SELECTOR, "#findings > li")
    assert [f.get_attribute("data-kind") for f in findings] == [
        f["kind"] for f in troop_answer["findings"]
    ]
    for item, finding in zip(findings, troop_answer["findings"], strict=True):
        assert finding["text"] in item.text
    caption = page.find_element(By.CSS_SELECTOR, "#plot-figure figcaption").text
    assert "posterior" not in caption.lower() and "density" not in caption.lower()


def test_bounds_on_one_side_give_no_central_figure(page: Chrome, live_app: Flask) -> None:
    page.find_element(By.ID, "load-example").click()
    for i in range(3):
        Select(field(page, f"claims.{i}.kind")).select_by_value("at_least")
    body = {**TROOP_CASE, "claims": [{**c, "kind": "at_least"} for c in TROOP_CASE["claims"]]}
    answer = live_app.test_client().post("/v1/reconcile", json=body).get_json()
    assert answer["estimate"]["value"] is None  # the core's answer, which the page must show

    reconcile(page)

    headline = wait_for(page, estimate_shown, "no estimate appeared")
    assert headline == "No central figure"
    assert page.find_element(By.ID, "summary").text == answer["summary"]["text"]
    ranges = page.find_element(By.ID, "ranges").text
    assert "at least" in ranges and "–" not in ranges
    wait_for(page, plot_loaded, "the plot did not load")
    screenshot(page, "bounds-one-side-desktop")


def test_the_modules_name_a_missing_element(page: Chrome) -> None:
    # Each module looks its elements up once (page.js): a mistyped id stops it there, naming
    # the id, instead of failing later as a TypeError on null.
    message = page.execute_script(
        "return import('/static/editor/page.js').then((m) => {"
        "  try { return m.elementsById({ status: 'status', box: 'no-such-box' }); }"
        "  catch (error) { return error.message; }"
        "});"
    )
    assert message == "The page has no element #no-such-box (wanted as box)."


def test_a_claims_chance_of_being_wrong_never_reads_as_certain(page: Chrome) -> None:
    # As the answer's words (models.wording.chance): a posterior probability is never exactly
    # 1 or 0, so the claims table must not say "100% likely wrong".
    texts = page.execute_script(
        "return import('/static/editor/format.js').then((m) =>"
        "  [1, 0.999, 0.995, 0.62, 0.004, 0].map(m.formatChance));"
    )
    assert texts == [">99%", ">99%", ">99%", "62%", "<1%", "<1%"]


def test_an_end_no_claim_sets_is_not_printed(page: Chrome) -> None:
    # As the answer's words (models.findings.OPEN_END_FACTOR): an end listed in beyond_claims
    # is the model's number, not evidence; the page printed "0.919 to 27,900,000,000,000,000
    # trillion" for one source's echoes of the wire (1 to 2, at least 1, 4.5).
    texts = page.execute_script(
        "return import('/static/editor/results.js').then((m) => ["
        "  {level: 0.9, low: 0.9186, high: 2.79e28, beyond_claims: ['high']},"
        "  {level: 0.9, low: 6e-5, high: 454.9, beyond_claims: ['low']},"
        "  {level: 0.9, low: -7238, high: 35703, beyond_claims: ['low', 'high']},"
        "  {level: 0.9, low: 1102, high: 8863, beyond_claims: []},"
        "  {level: 0.9, low: 71966, high: null, beyond_claims: []},"
        "].map(m.rangeText));"
    )
    assert texts == ["from 0.919 up; no claim sets its upper end",
                     "up to 455; no claim sets its lower end",
                     "no claim sets either end", "1,100 to 8,860", "at least 72,000"]
