"""Election polls through the stored API: learned credibility and a shared error per race type.

Data: FiveThirtyEight / ABC News, pollster ratings, github.com/fivethirtyeight/data, CC BY 4.0
(the March 2023 ``raw-polls.csv``; see the data folder's README). Pollsters are sources with a
resolved history; most of a race's error is shared by all its polls.

Every race is a stored question on the linear scale (unit: points of margin), its category the
race type (``type_simple``: Pres-G, Pres-P, Sen-G, Gov-G, House-G). Every poll is a claim: the
pollster is the source (no grade: what it is worth is learned), and a partisan (internal)
poll's the party that commissioned and released it (``released-by-DEM``: one source per
party, so the party's lean is learned from all its released polls; ``--partisan
pollster-for-party`` makes it the pollster working for that party, ``--partisan pollster``
the pollster as for any poll). The figure is the poll's margin (cand1 − cand2, in points) with
the sd of a difference of two shares of one sample, 100·√((p₁ + p₂ − (p₁ − p₂)²)/n); the rows
of one poll share an origin. Races before ``--split`` (2018) are resolved with their actual
margin and learned from (track records and the shared error per category, learned together
by the learning job); races from 2018 on are held out and asked twice, with their category
(the learned shared error) and without. With ``--rolling`` the held-out races of each year
are resolved and learned from before the next year's are asked. Everything goes through the
HTTP routes (Flask's test client) into a temporary SQLite store.

Two Alaska 2022 ranked-choice races with two different actual margins (8918, 8998) are left
out. Prints, for the held-out races: mean absolute error, coverage and mean width of the 90 %
range of Triangulate and of baselines computed in the same run from each race's own polls
(mean, median, sample-size and recency weights, the most recent polls; the mean of the polls
with a Gaussian shared error per race type learned before the split); Triangulate's figures by
year, race type and number of polls; the shared error used per category; how much of the
polls' error their race shares; and the narrowest calibrated width an oracle gets around the
same estimates.

Run: ``PYTHONPATH=. python bench/polls.py`` (four minutes on two cores; ``--rolling`` longer).
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
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from _common import ROOT
from flask import Flask
from flask.testing import FlaskClient

from models.shared_error import fit_shared_error_gaussian
from service import create_app
from service.config import defaults
from service.http.database import get_database, get_learner
from service.store.repository import Repository

DATA = ROOT.parent / "shared" / "polls_data" / "raw-polls.csv"
#: Ranked-choice races whose rows carry different actual margins (see the data README).
SKIP_RACES = {"8918", "8998"}
LEVEL = 0.9
#: The "most recent polls" baseline keeps the polls this many days from the race's last one;
#: the recency-weighted one weighs a poll by e^(−days before the election / RECENCY_DAYS).
RECENT_DAYS = 3
RECENCY_DAYS = 7.0


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


def _date(text: str) -> date:
    month, day, year = (int(part) for part in text.split("/"))
    return date(year, month, day)


def load(path: Path, *, partisan: str = "party") -> list[Race]:
    """The races of ``path``. A partisan (internal) poll's source (538 marks them
    ``partisan``) is, by ``partisan``: ``party``, the party that commissioned and released it
    (one source per party, whatever the pollster: which internal polls are made public is
    the party's choice); ``pollster-for-party``, its pollster working for that party;
    ``pollster``, its pollster as for any poll."""
    races: dict[str, Race] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["race_id"] in SKIP_RACES:
                continue
            race = races.setdefault(row["race_id"], Race(
                row["race_id"], int(row["year"]), row["race"], row["type_simple"],
                float(row["margin_actual"])))
            party = row["partisan"].strip().replace(",", "-")
            source, name = f"pollster-{row['pollster_rating_id']}", row["pollster"]
            if party and partisan == "party":
                source, name = f"released-by-{party}", f"internal polls released by {party}"
            elif party and partisan == "pollster-for-party":
                source, name = f"{source}-for-{party}", f"{name} (for {party})"
            race.polls.append({
                "source": source,
                "name": name[:200],
                "value": float(row["margin_poll"]),
                "sd": _sd(row),
                "origin": f"poll-{row['poll_id']}",
                "n": max(float(row["samplesize"] or 0.0), 100.0),
                "days": (_date(row["electiondate"]) - _date(row["polldate"])).days,
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
        return f"{label:<52}{statistics.mean(self.errors):7.2f}{cover}{width}"


Z90 = 1.6448536269514722


def _baselines(race: Race) -> dict[str, float]:
    """Point baselines from the race's own polls (nothing learned)."""
    values = [p["value"] for p in race.polls]
    latest = min(p["days"] for p in race.polls)
    recent = [p["value"] for p in race.polls if p["days"] <= latest + RECENT_DAYS]
    weights = [math.exp(-p["days"] / RECENCY_DAYS) for p in race.polls]
    return {
        "mean of the polls": statistics.mean(values),
        "median of the polls": statistics.median(values),
        "polls weighted by sample size": sum(p["value"] * p["n"] for p in race.polls)
        / sum(p["n"] for p in race.polls),
        "polls weighted by 1/sd²": sum(p["value"] / p["sd"] ** 2 for p in race.polls)
        / sum(1.0 / p["sd"] ** 2 for p in race.polls),
        f"most recent polls (within {RECENT_DAYS} days of the last)": statistics.mean(recent),
        f"polls weighted by recency (e^-days/{RECENCY_DAYS:g})":
            sum(w * p["value"] for w, p in zip(weights, race.polls, strict=True))
            / sum(weights),
    }


def _sampling_variance(race: Race) -> float:
    """Variance of the mean of the race's polls from their sampling sd alone."""
    return statistics.mean(p["sd"] ** 2 for p in race.polls) / len(race.polls)


def _gaussian_shared(train: list[Race]) -> dict[str, float]:
    """Per category, the ML s of truth − mean of polls ~ N(0, sampling variance + s²),
    learned from the training races only (Hardy & Thompson 1996)."""
    out = {}
    for category in sorted({r.category for r in train}):
        rs = [r for r in train if r.category == category]
        fit = fit_shared_error_gaussian(
            np.array([statistics.mean(p["value"] for p in r.polls) for r in rs]),
            np.array([_sampling_variance(r) for r in rs]), np.array([r.truth for r in rs]))
        out[category] = fit.s
    return out


def _polls_band(n: int) -> str:
    return "1 poll" if n == 1 else ("2 polls" if n == 2 else ("3-4 polls" if n <= 4
                                                               else "5+ polls"))


def _decompose(test: list[Race]) -> str:
    """How much of the mean of the polls' squared error is shared by the race's polls: the
    polls' own scatter (within-race variance / n, races with 2+ polls) against the rest."""
    multi = [r for r in test if len(r.polls) > 1]
    mse = statistics.mean((statistics.mean(p["value"] for p in r.polls) - r.truth) ** 2
                          for r in multi)
    noise = statistics.mean(statistics.variance([p["value"] for p in r.polls]) / len(r.polls)
                            for r in multi)
    within = math.sqrt(statistics.mean(statistics.variance([p["value"] for p in r.polls])
                                       for r in multi))
    sampling = math.sqrt(statistics.mean(p["sd"] ** 2 for r in multi for p in r.polls))
    return (f"Error of the mean of the polls, {len(multi)} held-out races with 2+ polls: "
            f"RMSE {math.sqrt(mse):.2f} points, of which the polls' own scatter (within-race "
            f"variance / n) {math.sqrt(noise):.2f} and the race's shared error "
            f"{math.sqrt(max(mse - noise, 0.0)):.2f} (root of the difference of the squares). "
            f"A poll's scatter about its race's mean is {within:.2f} points, its sampling sd "
            f"{sampling:.2f}.")


def _oracle_width(by: dict[str, Scores], what: str) -> str:
    """The narrowest calibrated ranges around Triangulate's estimates: per group, the 90th
    percentile of the held-out races' own absolute errors on either side (an oracle that
    peeks at the truths; no method can do better with the same centres and groups)."""
    widths, n = 0.0, 0
    for scores in by.values():
        errors = sorted(scores.errors)
        widths += 2.0 * float(np.quantile(errors, LEVEL)) * len(errors)
        n += len(errors)
    return (f"Oracle: ranges of ±(90th percentile of the held-out absolute errors) per {what} "
            f"around the same estimates cover 90 % by construction and average "
            f"{widths / n:.1f} points wide.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=int, default=2018, help="first held-out election year")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rolling", action="store_true",
                        help="also learn from the held-out races of the years before each "
                             "year asked (each race still sees only earlier years)")
    parser.add_argument("--partisan", choices=("pollster-for-party", "party", "pollster"),
                        default="party",
                        help="the source of a partisan poll: its pollster working for that "
                             "party, the party, or its pollster as for any poll")
    args = parser.parse_args()
    races = load(args.data, partisan=args.partisan)
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
        with_shared, without = Scores(), Scores()
        baselines: dict[str, Scores] = {}
        gaussian, shared_g = Scores(), _gaussian_shared(train)
        groups: dict[str, dict[str, Scores]] = {"year": {}, "race type": {}, "polls": {}}
        used: dict[str, tuple[float, str, int]] = {}
        asked: list[tuple[Race, int]] = []
        for race in test:
            if args.rolling and asked and race.year > asked[-1][0].year:
                # Every held-out race of the earlier years is resolved and learned from
                # before this year's are asked; nothing of this year or later is.
                for done, qid in asked:
                    _ok(client.post(f"/v1/questions/{qid}/resolution",
                                    json={"value": done.truth},
                                    headers={**auth, "If-Match": '"1"'}), "resolution")
                asked = []
                with app.app_context():
                    get_learner().run_pending()
            for name, value in _baselines(race).items():
                baselines.setdefault(name, Scores()).add(race.truth, value, None, None)
            centre = statistics.mean(p["value"] for p in race.polls)
            half = Z90 * math.sqrt(_sampling_variance(race) + shared_g[race.category] ** 2)
            gaussian.add(race.truth, centre, centre - half, centre + half)
            for category, scores in ((race.category, with_shared), (None, without)):
                qid = _question(client, auth, race, sources, category)
                answer = _ok(client.get(f"/v1/questions/{qid}/estimate?levels={LEVEL}"),
                             "estimate")
                interval = answer["estimate"]["intervals"][0]
                got = (answer["estimate"]["value"], interval["low"], interval["high"])
                scores.add(race.truth, *got)
                if category is not None:
                    asked.append((race, qid))
                    for group, key in (("year", str(race.year)),
                                       ("race type", race.category),
                                       ("polls", _polls_band(len(race.polls)))):
                        groups[group].setdefault(key, Scores()).add(race.truth, *got)
                    s = answer["shared_error"]
                    used[category] = (s["value"], s["origin"], s["n_questions"])
        with app.app_context():
            get_database().dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"Polls: {len(train)} races before {args.split} resolved and learned from "
          f"({sum(len(r.polls) for r in train)} polls); {len(test)} races from {args.split} "
          f"on held out ({sum(len(r.polls) for r in test)} polls). Sources: "
          f"pollsters (a partisan poll's: {args.partisan})"
          f"{'; held-out years learned from as they pass' if args.rolling else ''}"
          f". Learning {state.status}; {learned_s:.0f} s to store and learn, "
          f"{time.perf_counter() - started:.0f} s in all.")
    print(f"{'held-out races (points of margin)':<52}{'MAE':>7}{'cover90':>8}{'width90':>9}")
    for name, scores in baselines.items():
        print(scores.row(name))
    print(gaussian.row("mean of the polls ± Gaussian s per type (before)"))
    print(without.row("Triangulate, no shared error"))
    print(with_shared.row("Triangulate, shared error per category"))
    for group, by in groups.items():
        for key, scores in sorted(by.items()):
            print(scores.row(f"  {group} {key} ({len(scores.errors)} races)"))
    print("shared error used (s, origin, resolved races behind it; Gaussian baseline's s):")
    for category, (value, origin, n) in sorted(used.items()):
        print(f"  {category:<8} s = {value:5.2f} points  {origin:<8} n = {n:<5} "
              f"Gaussian s = {shared_g[category]:5.2f}")
    print(_decompose(test))
    print(_oracle_width(groups["race type"], "race type"))
    print(_oracle_width(groups["polls"], "number of polls"))


if __name__ == "__main__":
    main()
