"""Election polls through the stored API: learned credibility and a shared error per race type.

Data: FiveThirtyEight / ABC News, pollster ratings, github.com/fivethirtyeight/data, CC BY 4.0
(the March 2023 ``raw-polls.csv``; see the data folder's README). Pollsters are sources with a
resolved history; most of a race's error is shared by all its polls.

Every race is a stored question on the linear scale (unit: points of margin), its category the
race type (``type_simple``: Pres-G, Pres-P, Sen-G, Gov-G, House-G). Every poll is a claim: the
pollster is the source (no grade: what it is worth is learned), the figure the poll's margin
(cand1 − cand2, in points) with the sd of a difference of two shares of one sample,
100·√((p₁ + p₂ − (p₁ − p₂)²)/n); the rows of one poll share an origin. Races before
``--split`` (2018) are resolved with their actual margin and learned from (track records and
the shared error per category, by the learning job); races from 2018 on are held out and
asked twice, with their category (the learned shared error) and without (the row before it).
Everything goes through the HTTP routes (Flask's test client) into a temporary SQLite store.

Two Alaska 2022 ranked-choice races with two different actual margins (8918, 8998) are left
out. Prints, for the held-out races: mean absolute error of the estimate and of the plain mean
of the polls, coverage and mean width of the 90 % range (the row with the shared error also by
election year), and the shared error used per category.

Run: ``PYTHONPATH=. python bench/polls.py`` (two to four minutes on two cores).
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import ROOT
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.config import defaults
from service.http.database import get_database, get_learner
from service.store.repository import Repository

DATA = ROOT.parent / "shared" / "polls_data" / "raw-polls.csv"
#: Ranked-choice races whose rows carry different actual margins (see the data README).
SKIP_RACES = {"8918", "8998"}
LEVEL = 0.9


@dataclass
class Race:
    race_id: str
    year: int
    name: str
    category: str
    truth: float
    polls: list[dict[str, Any]] = field(default_factory=list)


def _sd(row: dict[str, str]) -> float:
    p1, p2 = float(row["cand1_pct"]) / 100.0, float(row["cand2_pct"]) / 100.0
    n = max(float(row["samplesize"] or 0.0), 100.0)
    return 100.0 * math.sqrt(max(p1 + p2 - (p1 - p2) ** 2, 1e-4) / n)


def load(path: Path) -> list[Race]:
    races: dict[str, Race] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["race_id"] in SKIP_RACES:
                continue
            race = races.setdefault(row["race_id"], Race(
                row["race_id"], int(row["year"]), row["race"], row["type_simple"],
                float(row["margin_actual"])))
            race.polls.append({
                "source": f"pollster-{row['pollster_rating_id']}",
                "name": row["pollster"][:200],
                "value": float(row["margin_poll"]),
                "sd": _sd(row),
                "origin": f"poll-{row['poll_id']}",
            })
    return sorted(races.values(), key=lambda r: (r.year, int(r.race_id)))


def _app(workdir: Path) -> tuple[Flask, dict[str, str]]:
    app = create_app({**defaults(), "DATA_DIR": str(workdir), "WRITE_RATE_LIMIT": "off"})
    with app.app_context():
        # The learning job runs once, after every training race is resolved.
        get_learner().run = "manual"
        with get_database().session() as session:
            key = Repository(session).create_key("bench-polls", cost=2**10)
    return app, {"Authorization": f"Bearer {key}"}


def _ok(response: Any, what: str) -> dict[str, Any]:
    if response.status_code >= 300:
        raise SystemExit(f"{what}: HTTP {response.status_code} {response.get_data(as_text=True)}")
    body: dict[str, Any] = response.get_json()
    return body


def _question(client: FlaskClient, auth: dict[str, str], race: Race, sources: set[str],
              category: str | None) -> int:
    for poll in race.polls:
        if poll["source"] not in sources:
            _ok(client.post("/v1/sources", headers=auth,
                            json={"id": poll["source"], "name": poll["name"],
                                  "type": "other"}), "source")
            sources.add(poll["source"])
    body = {"title": race.name, "unit": "points", "scale": "linear"}
    if category is not None:
        body["category"] = category
    qid = int(_ok(client.post("/v1/questions", headers=auth, json=body), "question")["id"])
    for poll in race.polls:
        _ok(client.post(f"/v1/questions/{qid}/claims", headers=auth, json={
            "source": poll["source"], "kind": "point", "value": poll["value"],
            "sd": poll["sd"], "origin": poll["origin"]}), "claim")
    return qid


@dataclass
class Scores:
    errors: list[float] = field(default_factory=list)
    covered: list[bool] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)

    def add(self, truth: float, value: float, low: float | None, high: float | None) -> None:
        self.errors.append(abs(value - truth))
        if low is not None and high is not None:
            self.covered.append(low <= truth <= high)
            self.widths.append(high - low)

    def row(self, label: str) -> str:
        cover = f"{100 * statistics.mean(self.covered):8.1f}" if self.covered else f"{'-':>8}"
        width = f"{statistics.mean(self.widths):9.1f}" if self.widths else f"{'-':>9}"
        return f"{label:<40}{statistics.mean(self.errors):7.2f}{cover}{width}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=int, default=2018, help="first held-out election year")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    races = load(args.data)
    train = [r for r in races if r.year < args.split]
    test = [r for r in races if r.year >= args.split]
    workdir = Path(tempfile.mkdtemp(prefix="polls_bench_"))
    started = time.perf_counter()
    try:
        app, auth = _app(workdir)
        client = app.test_client()
        sources: set[str] = set()
        for race in train:
            qid = _question(client, auth, race, sources, race.category)
            _ok(client.post(f"/v1/questions/{qid}/resolution", json={"value": race.truth},
                            headers={**auth, "If-Match": '"1"'}), "resolution")
        with app.app_context():
            state = get_learner().run_pending()
        learned_s = time.perf_counter() - started
        with_shared, without, mean_of_polls = Scores(), Scores(), Scores()
        by_year: dict[int, Scores] = {}
        used: dict[str, tuple[float, str, int]] = {}
        for race in test:
            mean_of_polls.add(race.truth, statistics.mean(p["value"] for p in race.polls),
                              None, None)
            for category, scores in ((race.category, with_shared), (None, without)):
                qid = _question(client, auth, race, sources, category)
                answer = _ok(client.get(f"/v1/questions/{qid}/estimate?levels={LEVEL}"),
                             "estimate")
                interval = answer["estimate"]["intervals"][0]
                scores.add(race.truth, answer["estimate"]["value"], interval["low"],
                           interval["high"])
                if category is not None:
                    by_year.setdefault(race.year, Scores()).add(
                        race.truth, answer["estimate"]["value"], interval["low"],
                        interval["high"])
                    s = answer["shared_error"]
                    used[category] = (s["value"], s["origin"], s["n_questions"])
        with app.app_context():
            get_database().dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"Polls: {len(train)} races before {args.split} resolved and learned from "
          f"({sum(len(r.polls) for r in train)} polls); {len(test)} races from {args.split} "
          f"on held out ({sum(len(r.polls) for r in test)} polls). Learning {state.status}; "
          f"{learned_s:.0f} s to store and learn, {time.perf_counter() - started:.0f} s in all.")
    print(f"{'held-out races (points of margin)':<40}{'MAE':>7}{'cover90':>8}{'width90':>9}")
    print(mean_of_polls.row("mean of the polls"))
    print(without.row("Triangulate, no shared error (before)"))
    print(with_shared.row("Triangulate, shared error per category"))
    for year, scores in sorted(by_year.items()):
        print(scores.row(f"  of which {year} ({len(scores.errors)} races)"))
    print("shared error used (s, origin, resolved races behind it):")
    for category, (value, origin, n) in sorted(used.items()):
        print(f"  {category:<8} s = {value:5.2f} points  {origin:<8} n = {n}")


if __name__ == "__main__":
    main()
