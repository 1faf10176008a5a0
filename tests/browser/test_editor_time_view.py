"""The editors' page for a figure that moves: the dynamics choice, each claim's date and what it
speaks of, and the answer's level on a date, eventual total and course, in headless Chromium.

Each test leaves a screenshot in ``artifacts/browser/`` (git-ignored), for a person to look at.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Final

import pytest
from flask import Flask
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import screenshot
from tests.browser.test_editor_page import (
    estimate_shown,
    field,
    figure,
    plot_loaded,
    reconcile,
    retype,
    wait_for,
)

FIXTURE: Final = Path(__file__).resolve().parents[2] / "fixtures" / "troop_moving_with_dates.json"
#: The founding case with its dates and horizons, as POST /v1/reconcile takes it.
FOUNDING: Final[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["input"]


def _sent_body(page: Chrome) -> dict[str, Any]:
    """The body the form would send now."""
    body: dict[str, Any] = page.execute_script(
        "return import('/static/editor/form.js').then((m) => {"
        "  const form = new m.CaseForm(document.getElementById('case'));"
        "  return form.toRequest();"
        "});"
    )
    return body


@pytest.fixture(scope="module")
def founding_answer(live_app: Flask) -> dict[str, Any]:
    """What POST /v1/reconcile answers for the founding case with its dates."""
    response = live_app.test_client().post("/v1/reconcile", json=copy.deepcopy(FOUNDING))
    assert response.status_code == 200, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def test_moving_fields_show_only_for_a_figure_that_moves(page: Chrome) -> None:
    page.find_element(By.ID, "load-example").click()
    horizon = field(page, "claims.0.horizon")
    at = field(page, "at")
    assert Select(field(page, "dynamics")).first_selected_option.get_attribute("value") == "static"
    assert not horizon.is_displayed() and not at.is_displayed()
    assert field(page, "claims.0.as_of").is_displayed()  # a date is worth keeping either way
    # A static question sends what it always sent: no dynamics, at or horizons.
    body = _sent_body(page)
    assert "dynamics" not in body and "at" not in body
    assert all("horizon" not in claim for claim in body["claims"])

    Select(field(page, "dynamics")).select_by_value("cumulative")

    assert horizon.is_displayed() and at.is_displayed()
    options = [o.text for o in Select(field(page, "dynamics")).options]
    assert any("never falls" in text for text in options)
    assert any("rise and fall" in text for text in options)
    body = _sent_body(page)
    assert body["dynamics"] == "cumulative"
    assert [claim["horizon"] for claim in body["claims"]] == ["level"] * 3


def test_founding_case_shows_the_level_the_total_and_the_course(
    page: Chrome, founding_answer: dict[str, Any]
) -> None:
    page.find_element(By.ID, "load-moving-example").click()
    assert field(page, "claims.1.as_of").get_attribute("value") == "2024-10-17"
    assert Select(field(page, "claims.1.horizon")).first_selected_option.get_attribute(
        "value") == "total"
    body = _sent_body(page)
    for key in ("dynamics", "question", "unit"):
        assert body[key] == FOUNDING[key]
    assert [(c["as_of"], c["horizon"]) for c in body["claims"]] == [
        (c["as_of"], c["horizon"]) for c in FOUNDING["claims"]
    ]

    reconcile(page)

    answer, time = founding_answer, founding_answer["time"]
    headline = wait_for(page, estimate_shown, "no estimate appeared")
    assert headline == f"About {figure(answer['estimate']['value'])} soldiers on 18 Oct 2024"
    assert page.find_element(By.ID, "summary").text == answer["summary"]["text"]
    box = page.find_element(By.ID, "time-box")
    assert box.is_displayed()
    level = page.find_element(By.ID, "time-level").text
    assert level.startswith("On 18 Oct 2024: about ") and "90% range" in level
    total = page.find_element(By.ID, "time-total").text
    assert total.startswith(f"Eventual total: about {figure(time['total']['value'])} soldiers")
    wide = time["total"]["intervals"][-1]
    assert f"90% range {figure(wide['low'])} to {figure(wide['high'])}" in total

    heading = page.find_element(By.ID, "time-range-heading").text
    assert heading == "90% range"
    rows = page.find_elements(By.CSS_SELECTOR, "#time-table tbody tr")
    cells = [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    assert [c[0] for c in cells] == ["17 Oct 2024", "18 Oct 2024", "Eventual total"]
    for row, moment in zip(cells, [*time["trajectory"], time["total"]], strict=True):
        wide = moment["intervals"][-1]
        assert row[1] == figure(moment["value"])
        assert row[2] == f"{figure(wide['low'])} to {figure(wide['high'])}"
    assert cells[1][3] == "#1" and cells[2][3] == "#2, #3"
    assert rows[1].get_attribute("class") == "at"

    claims = [r.find_elements(By.TAG_NAME, "td")[2].text
              for r in page.find_elements(By.CSS_SELECTOR, "#claims-table tbody tr")]
    assert claims[0] == "1,500 · 18 Oct 2024"
    assert claims[1] == "possibly 10,000 in total · 17 Oct 2024"
    wait_for(page, plot_loaded, "the plot did not load")
    screenshot(page, "founding-case-with-dates")


def test_estimate_on_a_date_and_back_to_static(page: Chrome) -> None:
    page.find_element(By.ID, "load-moving-example").click()
    page.execute_script("document.getElementById('q-at').value = '2024-10-17'")

    reconcile(page)

    wait_for(page, estimate_shown, "no estimate appeared")
    assert page.find_element(By.ID, "time-level").text.startswith("On 17 Oct 2024: ")

    # The same claims as a static question: no time view, the page as it always was.
    Select(field(page, "dynamics")).select_by_value("static")
    retype(field(page, "question"), "North Korean soldiers in Russia")
    reconcile(page)
    wait_for(page, lambda d: not d.find_element(By.ID, "time-box").is_displayed() or None,
             "the time view stayed for a static question")
    assert " on " not in page.find_element(By.ID, "estimate").text
    claims = [r.find_elements(By.TAG_NAME, "td")[2].text
              for r in page.find_elements(By.CSS_SELECTOR, "#claims-table tbody tr")]
    assert claims[0] == "1,500"
