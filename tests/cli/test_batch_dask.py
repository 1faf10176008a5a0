"""The Dask batch engine gives the local engine's answers; directory and Parquet input.

A ``distributed.LocalCluster`` of two worker processes fits a synthetic archive of point
claims, bounds, ranges, echoes of one origin and exact copies (agreed figures), spread over
three files so that questions span files, in five partitions; every question's estimate and
interval and every source's parameters must equal the local engine's (``DASK_RTOL``). The
comparison's power is checked by dropping one partition's sums, which must move the answers.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from distributed import Client

import service.batch.dask_engine as dask_engine
from models.batch import BatchEstimator, BatchFit, sums
from service.batch.dask_engine import DaskFit, fit_frames_on_dask, fit_on_dask
from service.batch.inputs import claim_files, concat, frame_of_table, read_table
from service.batch.outputs import EstimatesWriter
from service.cli.main import main
from tests.dask_cluster import local_client
from tests.tolerances import DASK_RTOL

HEADER = ["question", "source", "kind", "value", "low", "high", "origin"]
#: A small warm start, so that both EM phases (sample, then all questions) are compared.
ESTIMATOR = BatchEstimator(warm_start_claims=300)


def _archive(n_q: int = 500, n_s: int = 10, seed: int = 7) -> list[list[str]]:
    """Claims of every kind about ``n_q`` questions; a quarter are verbatim copies."""
    rng = np.random.default_rng(seed)
    truth = np.exp(rng.uniform(2.0, 12.0, n_q))
    spread = rng.uniform(0.02, 0.4, n_s)
    rows: list[list[str]] = []
    for q in range(n_q):
        for s in rng.choice(n_s, size=int(rng.integers(1, 9)), replace=False):
            u = rng.random()
            row = [f"q{q}", f"s{s}", "point", "", "", "", ""]
            if u < 0.25:
                row[3] = str(float(round(truth[q])))  # an exact copy of the true figure
            elif u < 0.33:
                row[2:4] = ["at_least", str(float(round(0.8 * truth[q])))]
            elif u < 0.40:
                row[2] = "range"
                row[4:6] = [str(float(round(truth[q] * 0.75))), str(float(round(truth[q] * 1.2)))]
            else:
                row[3] = f"{truth[q] * np.exp(rng.normal(0.0, spread[s])):.4g}"
                if u > 0.92:
                    row[6] = f"wire{q % 3}"  # echoes of one origin count once
            rows.append(row)
    return rows


def _write_csvs(folder: Path, rows: list[list[str]], files: int = 3) -> Path:
    folder.mkdir()
    for k in range(files):
        with (folder / f"part{k}.csv").open("w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(HEADER)
            writer.writerows(rows[k::files])  # every question spans the files
    return folder


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 1,200 questions: enough that some shapes of question (claims, ranges) number more than
    # 64 in the archive but fewer in a partition, where the exact posterior's panels once
    # differed (models.batch.panels thinned only large groups).
    return _write_csvs(tmp_path_factory.mktemp("dask") / "claims", _archive(n_q=1200))


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_csvs(tmp_path_factory.mktemp("dask") / "small", _archive(n_q=150))


@pytest.fixture(scope="module")
def local_fit(archive: Path) -> BatchFit:
    return ESTIMATOR.fit(read_table(archive)[0], levels=(0.5, 0.9))


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with local_client() as c:
        yield c


def _dask_fit(client: Client, archive: Path, out: Path) -> DaskFit:
    files, fmt = claim_files(archive)
    with EstimatesWriter(out, "csv") as writer:
        return fit_on_dask(client, files, fmt, writer, estimator=ESTIMATOR, levels=(0.5, 0.9),
                           partitions=5)


def _questions(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as f:
        return {row["question"]: row for row in csv.DictReader(f)}


def _source_gap(local: BatchFit, fit: DaskFit) -> float:
    gaps = [np.max(np.abs(getattr(fit.sources, name) - getattr(local.sources, name))
                   / np.abs(getattr(local.sources, name)))
            for name in ("credibility", "credibility_low", "credibility_high", "exact_share",
                         "spread")]
    bias = np.max(np.abs(fit.sources.bias - local.sources.bias)
                  / np.maximum(np.abs(local.sources.bias), 1e-3))
    return float(max(*gaps, bias))


def test_dask_engine_equals_the_local_engine(
    client: Client, archive: Path, local_fit: BatchFit, tmp_path: Path
) -> None:
    out = tmp_path / "dask.csv"
    fit = _dask_fit(client, archive, out)

    assert fit.n_partitions == 5
    assert (fit.iterations, fit.converged) == (local_fit.iterations, local_fit.converged)
    assert fit.warnings == local_fit.warnings
    assert fit.sources.ids == local_fit.sources.ids
    np.testing.assert_array_equal(fit.sources.n_claims, local_fit.sources.n_claims)
    assert _source_gap(local_fit, fit) < DASK_RTOL
    rows = _questions(out)
    qe = local_fit.questions
    assert sorted(rows) == sorted(qe.ids)
    for k, qid in enumerate(qe.ids):
        row = rows[qid]
        got = [float(row[c]) for c in ("value", "low_50", "high_50", "low_90", "high_90")]
        want = [qe.value[k], qe.low[k, 0], qe.high[k, 0], qe.low[k, 1], qe.high[k, 1]]
        # The CSV holds 12 significant digits.
        np.testing.assert_allclose(got, want, rtol=max(DASK_RTOL, 1e-11), err_msg=qid)
        assert int(row["n_claims"]) == qe.n_claims[k]


def test_a_partition_left_out_of_the_sums_shows(
    client: Client, archive: Path, local_fit: BatchFit, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = sums.total
    monkeypatch.setattr(dask_engine, "total", lambda parts: real(list(parts)[1:]))

    fit = _dask_fit(client, archive, tmp_path / "dropped.csv")

    assert _source_gap(local_fit, fit) > 1e-4


def test_the_command_on_dask_writes_parquet_equal_to_local_csv(
    client: Client, small_archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    archive = small_archive
    local_out = tmp_path / "local.csv"
    dask_out = tmp_path / "dask.parquet"
    assert main(["batch", str(archive), "--out", str(local_out)]) == 0
    # The address from the environment, as compose.yaml gives it.
    address = str(client.scheduler_info()["address"])
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)

    code = main(["batch", str(archive), "--engine", "dask", "--partitions", "3", "--out",
                 str(dask_out)])

    err = capsys.readouterr().err
    assert code == 0, err
    assert f"using the Dask scheduler at {address}" in err
    table = pq.read_table(dask_out).to_pydict()
    rows = _questions(local_out)
    assert sorted(table["question"]) == sorted(rows)
    for k, qid in enumerate(table["question"]):
        # The CSV holds 12 significant digits of the figures and 6 of p_exact.
        for column, digits in (("value", 1e-11), ("low", 1e-11), ("high", 1e-11),
                               ("p_exact", 1e-5)):
            assert table[column][k] == pytest.approx(float(rows[qid][column]),
                                                     rel=max(DASK_RTOL, digits), abs=1e-12)


def test_the_local_engine_needs_no_dask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = tmp_path / "claims.csv"
    with claims.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([HEADER, *_archive(n_q=20)])
    for name in ("dask", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # import dask now raises ImportError
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)

    assert main(["batch", str(claims), "--out", str(tmp_path / "out.csv")]) == 0
    assert len(_questions(tmp_path / "out.csv")) == 20
    capsys.readouterr()
    assert main(["batch", str(claims), "--engine", "dask"]) == 2
    assert "--engine dask needs dask and distributed" in capsys.readouterr().err


def test_a_directory_reads_as_its_files_joined(tmp_path: Path) -> None:
    rows = _archive(n_q=60, seed=3)
    folder = _write_csvs(tmp_path / "csvs", rows)
    joined = tmp_path / "all.csv"
    with joined.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(
            [HEADER, *(r for k in range(3) for r in rows[k::3])])
    parquet = tmp_path / "parquet"
    parquet.mkdir()
    for path in sorted(folder.iterdir()):
        pq.write_table(pa_csv.read_csv(path), parquet / f"{path.stem}.parquet")

    from_dir = ESTIMATOR.fit(read_table(folder)[0])
    from_file = ESTIMATOR.fit(read_table(joined)[0])
    from_parquet = ESTIMATOR.fit(read_table(parquet)[0])

    for fit in (from_dir, from_parquet):
        assert fit.questions.ids == from_file.questions.ids
        assert fit.sources.ids == from_file.sources.ids
        np.testing.assert_array_equal(fit.questions.value, from_file.questions.value)
        np.testing.assert_array_equal(fit.sources.credibility, from_file.sources.credibility)


def test_a_refused_claim_in_a_directory_names_its_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _write_csvs(tmp_path / "csvs", _archive(n_q=30, seed=5))
    with (folder / "part1.csv").open("a") as f:
        f.write("q1,s1,point,-5,,,\n")
    lines = (folder / "part1.csv").read_text().count("\n")

    assert main(["batch", str(folder), "--scale", "log"]) == 1

    err = capsys.readouterr().err
    assert f"part1.csv line {lines}" in err


def test_fewer_questions_than_partitions(client: Client, tmp_path: Path) -> None:
    # Three questions hashed into sixteen partitions leave most of them empty: those are left
    # out, not refused ("At least one claim is required" before).
    folder = _write_csvs(tmp_path / "csvs", _archive(n_q=3, seed=5), files=2)
    local = ESTIMATOR.fit(read_table(folder)[0])
    files, fmt = claim_files(folder)
    with EstimatesWriter(tmp_path / "out.csv", "csv") as writer:
        fit = fit_on_dask(client, files, fmt, writer, estimator=ESTIMATOR, partitions=16)

    assert fit.n_questions == 3 and fit.n_partitions <= 3
    assert _source_gap(local, fit) <= DASK_RTOL
    assert set(_questions(tmp_path / "out.csv")) == set(local.questions.ids)


def test_frames_handed_over_in_chunks_fit_as_the_local_engine(
    client: Client, archive: Path
) -> None:
    # The path of `learn agreement --engine dask` (chunks read from a database), which the
    # PostgreSQL tests cover only with a database: each chunk is kept in a file on a worker,
    # then split into partitions as a file is.
    table = read_table(archive)[0]
    bounds = np.linspace(0, table.n_questions, 4).astype(int)
    frames = [frame_of_table(table.take_questions(np.arange(lo, hi)), k, "chunk")
              for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))]
    local = ESTIMATOR.fit(concat(frames).table())

    fit = fit_frames_on_dask(client, iter(frames), estimator=ESTIMATOR, partitions=5)

    assert fit.sources.ids == local.sources.ids
    assert (fit.n_claims, fit.n_questions) == (table.n, table.n_questions)
    assert _source_gap(local, fit) < DASK_RTOL


def _spilled(client: Client) -> list[str]:
    """The partition files on the workers (``client.run`` passes ``dask_worker``)."""
    def names(dask_worker: Any) -> list[str]:
        return [p.name for p in Path(dask_worker.local_directory).glob("triangulate-batch-*/*")]
    return sorted(n for got in client.run(names).values() for n in got)


def test_partitions_live_in_files_of_their_workers_during_a_fit_only(
    client: Client, small_archive: Path, tmp_path: Path
) -> None:
    # A worker's memory holds the partition it works on, not all of its partitions: between
    # EM iterations every partition is a file of its home worker (removed after the fit).
    seen: list[list[str]] = []
    files, fmt = claim_files(small_archive)
    with EstimatesWriter(tmp_path / "out.csv", "csv") as writer:
        fit_on_dask(client, files, fmt, writer, estimator=ESTIMATOR, partitions=5,
                    progress=lambda _k, _n: seen.append(_spilled(client)))

    assert seen and all(names == [f"part{j}.pickle" for j in range(5)] for names in seen)
    assert _spilled(client) == []
