"""The stored-questions panel of the editors' page: open a question, see its estimate and plot
(GET /v1/questions/{id}/estimate and /plot), add a claim with an API key typed in the page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from service.http.database import get_database
from service.store.repository import Repository
from tests.browser.conftest import screenshot
from tests.browser.test_editor_page import estimate_shown, field, plot_loaded, wait_for

#: scrypt cost of the test's throw-away key (the stored parameters make verifying it cheap).
KEY_COST = 2**10


@pytest.fixture(scope="module")
def stored(live_app: Flask) -> Iterator[dict[str, Any]]:
    """An API key and a stored question with two of the troop case's three claims."""
    with live_app.app_context(), get_database().session() as session:
        key = Repository(session).create_key("browser-editor", cost=KEY_COST)
    client = live_app.test_client()
    auth = {"Authorization": f"Bearer {key}"}

    def post(url: str, body: dict[str, Any]) -> Any:
        response = client.post(url, json=body, headers=auth)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    post("/v1/sources", {"id": "nis", "name": "South Korea NIS",
                         "type": "intelligence_agency", "reliability": "B"})
    post("/v1/sources", {"id": "zelensky", "name": "Volodymyr Zelensky",
                         "type": "head_of_state", "reliability": "C"})
    question = post("/v1/questions", {"title": "North Korean soldiers in Russia (stored)",
                                      "unit": "soldiers", "scale": "log"})
    post(f"/v1/questions/{question['id']}/claims", {"source": "nis", "kind": "point",
                                                     "value": 1500})
    post(f"/v1/questions/{question['id']}/claims", {"source": "zelensky", "kind": "at_most",
                                                     "value": 10000})
    yield {"key": key, "question": question, "client": client, "auth": auth}


def test_open_a_stored_question_and_add_a_claim(page: Chrome, stored: dict[str, Any]) -> None:
    question_id = stored["question"]["id"]
    panel = page.find_element(By.ID, "stored")
    wait_for(page, lambda d: panel.is_displayed(), "the stored-questions panel stayed hidden")
    page.find_element(By.ID, "api-key").send_keys(stored["key"])
    page.find_element(By.ID, "stored-search").send_keys("stored")
    page.find_element(By.ID, "stored-list").click()
    open_button = wait_for(
        page,
        lambda d: d.find_element(By.CSS_SELECTOR, "#stored-questions li button"),
        "no question listed",
    )
    open_button.click()

    wait_for(page, estimate_shown, "the stored question's estimate did not appear")
    wait_for(page, plot_loaded, "the stored question's plot did not load")
    assert field(page, "question").get_attribute("value") == stored["question"]["title"]
    rows = page.find_elements(By.CSS_SELECTOR, "#claims > li")
    assert len(rows) == 2 and all("stored" in str(r.get_attribute("class")) for r in rows)
    assert field(page, "claims.0.value").get_attribute("readonly") == "true"

    page.find_element(By.ID, "add-source").click()
    name = page.find_elements(By.CSS_SELECTOR, "#sources > li")[-1].find_element(
        By.CSS_SELECTOR, '[data-field="name"]'
    )
    name.send_keys("Sources to South Korean media")
    page.find_element(By.ID, "add-claim").click()
    Select(field(page, "claims.2.source")).select_by_visible_text("Sources to South Korean media")
    field(page, "claims.2.value").send_keys("12k")
    Select(field(page, "claims.2.hedge")).select_by_value("about")
    page.find_element(By.ID, "stored-add").click()

    status = page.find_element(By.ID, "stored-status")
    wait_for(page, lambda d: "Saved 1 claim" in status.text, f"not saved: {status.text}")
    claims = stored["client"].get(
        f"/v1/questions/{question_id}/claims", headers=stored["auth"]
    ).get_json()
    assert [(c["source"], c["value"], c["hedge"]) for c in claims["items"]][-1] == (
        "sources-to-south-korean-media", 12000.0, "about"
    )
    wait_for(page, lambda d: "3" in d.find_element(By.CSS_SELECTOR,
             "#claims-table tbody tr:last-child td").text, "the estimate was not refreshed")
    wait_for(page, plot_loaded, "the refreshed plot did not load")
    screenshot(page, "stored-question-claim-added")


def test_adding_without_a_key_says_so(page: Chrome, stored: dict[str, Any]) -> None:
    page.execute_script("sessionStorage.clear()")
    page.refresh()
    assert page.find_element(By.ID, "api-key").get_attribute("value") == ""
    page.find_element(By.ID, "stored-search").send_keys("stored")
    page.find_element(By.ID, "stored-list").click()
    wait_for(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#stored-questions li button"),
             "no question listed without a key (reads are open by default)")[0].click()
    wait_for(page, estimate_shown, "no estimate without a key")
    page.find_element(By.ID, "add-claim").click()
    field(page, "claims.2.value").send_keys("5000")
    page.find_element(By.ID, "stored-add").click()
    status = page.find_element(By.ID, "stored-status")
    assert "needs an API key" in status.text
    assert page.switch_to.active_element.get_attribute("id") == "api-key"
