"""POST /v1/reconcile for a quantity that moves: dates, horizons, dynamics and the time view."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

URL = "/v1/reconcile"

#: The founding case with its dates and horizons; the fixture holds the derivation.
FIXTURE = Path(__file__).parents[2] / "fixtures" / "troop_moving_with_dates.json"
FOUNDING: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))["input"]


def _founding() -> dict[str, Any]:
    return copy.deepcopy(FOUNDING)


def test_the_founding_case_reads_the_level_and_the_total_apart(client: FlaskClient) -> None:
    response = client.post(URL, json=_founding())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    time = body["time"]
    assert time["dynamics"] == "cumulative" and time["at"] == "2024-10-18"
    assert body["estimate"]["value"] == pytest.approx(1500, rel=0.15)
    wide = time["total"]["intervals"][-1]
    assert wide["low"] <= 10_000 and wide["high"] >= 12_000
    assert not any(c["outlier"] for c in body["claims"])
    assert [c["horizon"] for c in body["claims"]] == ["level", "total", "total"]
    # Zelensky spoke on 17 October about the total: that day joins the trajectory.
    assert [m["date"] for m in time["trajectory"]] == ["2024-10-17", "2024-10-18"]


def test_a_static_question_has_no_time_view(client: FlaskClient) -> None:
    body = _founding()
    del body["dynamics"]
    result = client.post(URL, json=body).get_json()
    assert result["time"] is None


def test_a_later_date_extends_the_trajectory(client: FlaskClient) -> None:
    body = _founding()
    body["claims"].append({"source": "nis", "kind": "range", "low": 10000, "high": 12000,
                           "as_of": "2024-11-13"})
    body["at"] = "2024-11-01"
    result = client.post(URL, json=body).get_json()
    dates = [m["date"] for m in result["time"]["trajectory"]]
    assert dates == ["2024-10-17", "2024-10-18", "2024-11-01", "2024-11-13"]
    values = [m["value"] for m in result["time"]["trajectory"]]
    assert values == sorted(values)  # cumulative: never decreasing
    assert result["time"]["at"] == "2024-11-01"


@pytest.mark.parametrize(("change", "field"), [
    ({"dynamics": "growing"}, "dynamics"),
    ({"dynamics": "static", "at": "2024-10-18"}, "at"),
    ({"dynamics": "static", "drift": 0.1}, "drift"),
    ({"drift": -1}, "drift"),
    ({"drift": 0}, "drift"),
    ({"method": "random_effects"}, "method"),
    ({"at": "18 October"}, "at"),
])
def test_bad_time_options_are_problems_naming_the_field(
    client: FlaskClient, change: dict[str, Any], field: str
) -> None:
    body = {**_founding(), **change}
    response = client.post(URL, json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert field in problem["errors"], problem


def test_a_bad_horizon_is_a_problem_naming_the_claim(client: FlaskClient) -> None:
    body = _founding()
    body["claims"][1]["horizon"] = "eventually"
    response = client.post(URL, json=body)
    assert response.status_code == 422
    assert "claims.1.horizon" in response.get_json()["errors"]
