"""``GET /v1/questions/{id}/plot``: the forest plot of a stored question's estimate."""

from __future__ import annotations

from flask.testing import FlaskClient

from service.http.problems import PROBLEM_MIMETYPE
from tests.store.conftest import Api, AppMaker, create_key


def _troop_question(api: Api) -> int:
    api.source("nis", "B", name="South Korea NIS", type="intelligence_agency")
    api.source("zelensky", "C", name="Volodymyr Zelensky", type="head_of_state")
    api.source("anon-media", "F", name="Sources to South Korean media", type="anonymous")
    question = api.question("North Korean soldiers in Russia", unit="soldiers", scale="log")
    qid = int(question["id"])
    api.claim(qid, "nis", 1500)
    api.claim(qid, "zelensky", 10000, kind="at_most")
    api.claim(qid, "anon-media", 12000, hedge="about")
    return qid


def test_plot_of_a_stored_question(api: Api, client: FlaskClient) -> None:
    qid = _troop_question(api)

    svg = client.get(f"/v1/questions/{qid}/plot")
    png = client.get(f"/v1/questions/{qid}/plot?format=png&levels=0.5&levels=0.95")
    accepted = client.get(f"/v1/questions/{qid}/plot", headers={"Accept": "image/png"})

    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<dc:title>North Korean soldiers in Russia</dc:title>" in svg.get_data()
    assert png.status_code == 200 and png.get_data().startswith(b"\x89PNG")
    assert accepted.mimetype == "image/png"


def test_plot_follows_the_estimate_query(api: Api, client: FlaskClient) -> None:
    qid = _troop_question(api)

    bad_level = client.get(f"/v1/questions/{qid}/plot?levels=1.5")
    bad_format = client.get(f"/v1/questions/{qid}/plot?format=gif")

    assert bad_level.status_code == 422 and "query.levels.0" in bad_level.get_json()["errors"]
    assert bad_format.status_code == 422 and "query.format" in bad_format.get_json()["errors"]


def test_missing_question_and_bad_accept(api: Api, client: FlaskClient) -> None:
    qid = _troop_question(api)

    missing = client.get("/v1/questions/999999/plot")
    refused = client.get(f"/v1/questions/{qid}/plot", headers={"Accept": "application/json"})

    assert missing.status_code == 404 and missing.mimetype == PROBLEM_MIMETYPE
    assert refused.status_code == 406 and refused.mimetype == PROBLEM_MIMETYPE


def test_plot_needs_a_key_when_reads_do(make_app: AppMaker) -> None:
    app = make_app(READS_REQUIRE_KEY=True)
    client = app.test_client()
    key = create_key(app)
    auth = {"Authorization": f"Bearer {key}"}
    qid = _troop_question(Api(client, auth))

    anonymous = client.get(f"/v1/questions/{qid}/plot")
    keyed = client.get(f"/v1/questions/{qid}/plot", headers=auth)

    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert keyed.status_code == 200
