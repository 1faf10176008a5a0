"""``triangulate batch``: CSV and JSON Lines in and out, priors, refusals, progress."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from service.cli.batch_files import Progress, read_claims
from service.cli.main import main

CLAIMS_CSV = """question,source,kind,value,low,high,hedge
springfield,census,point,152082,,,
springfield,wiki,point,152082,,,
springfield,blog,point,154082,,,about
shelbyville,census,point,60512,,,
shelbyville,wiki,at_least,60000,,,
shelbyville,blog,range,,55000,65000,
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_csv_in_csv_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    claims = _write(tmp_path / "claims.csv", CLAIMS_CSV)
    out = tmp_path / "estimates.csv"

    code = main(["batch", str(claims), "--level", "0.9", "--out", str(out)])

    assert code == 0, capsys.readouterr().err
    rows = _rows(out)
    assert list(rows[0]) == ["question", "value", "low", "high", "n_claims", "n_sources",
                             "p_exact"]
    by_id = {r["question"]: r for r in rows}
    assert float(by_id["springfield"]["value"]) == pytest.approx(152082, abs=0.5)
    assert by_id["shelbyville"]["n_claims"] == "3"
    assert float(by_id["shelbyville"]["low"]) <= float(by_id["shelbyville"]["value"])


def test_several_levels_name_their_columns(tmp_path: Path) -> None:
    claims = _write(tmp_path / "claims.csv", CLAIMS_CSV)
    out = tmp_path / "estimates.csv"

    assert main(["batch", str(claims), "--level", "0.5", "--level", "0.9", "--out",
                 str(out)]) == 0

    assert list(_rows(out)[0])[2:6] == ["low_50", "high_50", "low_90", "high_90"]


def test_jsonl_in_jsonl_out_matches_csv(tmp_path: Path) -> None:
    records = list(csv.DictReader(io.StringIO(CLAIMS_CSV)))
    lines = []
    for r in records:
        record = {k: v for k, v in r.items() if v}
        for key in ("value", "low", "high"):
            if key in record:
                record[key] = float(record[key])
        lines.append(json.dumps(record))
    claims = _write(tmp_path / "claims.jsonl", "\n".join(lines) + "\n")
    out = tmp_path / "estimates.jsonl"
    csv_out = tmp_path / "estimates.csv"

    assert main(["batch", str(claims), "--out", str(out)]) == 0
    assert main(["batch", str(_write(tmp_path / "c.csv", CLAIMS_CSV)), "--out",
                 str(csv_out)]) == 0

    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["question"] for g in got] == ["springfield", "shelbyville"]
    assert got[0]["intervals"][0]["level"] == 0.9
    expected = {r["question"]: float(r["value"]) for r in _rows(csv_out)}
    for g in got:
        # The CSV carries 12 significant digits, JSON the full double.
        assert g["value"] == pytest.approx(expected[g["question"]], rel=1e-11)


def test_quoted_csv_and_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quoted = 'question,source,kind,value\n"Paris, France",a,point,2100000\n' \
             '"Paris, France",b,point,2150000\n'
    claims = _write(tmp_path / "claims.csv", quoted)

    assert main(["batch", str(claims)]) == 0

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["question"] == "Paris, France"


def test_sources_file_sets_priors(tmp_path: Path) -> None:
    claims = _write(tmp_path / "claims.csv",
                    "question,source,kind,value\nq,x,point,1000\nq,y,point,3000\n")
    trust_y = _write(tmp_path / "sources.csv", "id,reliability,type\nx,E,other\ny,A,other\n")
    out = tmp_path / "out.csv"
    learned = tmp_path / "learned.csv"

    assert main(["batch", str(claims), "--sources", str(trust_y), "--out", str(out),
                 "--sources-out", str(learned)]) == 0

    assert float(_rows(out)[0]["value"]) > 2300
    assert {r["id"] for r in _rows(learned)} == {"x", "y"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("question,source,kind,value\nq,a,point,12\nq,b,point,lots\n", "line 3, column value"),
        ("question,source,kind,value\nq,a,point,12\nq,b,guess,3\n", "line 3, column kind"),
        ("question,source,kind,value\nq,a,point,12\nq,b,range,\n", "line 3, column low"),
        ("question,source,kind,value\nq,a,point\n", "line 2: expected 4 fields"),
        ("question,source,value\nq,a,12\n", "missing column 'kind'"),
        ("question,source,kind,value,weight\nq,a,point,1,2\n", "unknown column 'weight'"),
        ("question,source,kind,value\n", "no claims"),
    ],
)
def test_refused_input_names_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    claims = _write(tmp_path / "claims.csv", content)

    code = main(["batch", str(claims), "--out", str(tmp_path / "out.csv")])

    assert code == 1
    assert expected in capsys.readouterr().err


def test_refused_jsonl_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    claims = _write(tmp_path / "claims.jsonl",
                    '{"question": "q", "source": "a", "kind": "point", "value": 1}\n\n'
                    '{"question": "q", "source": "b", "kind": "point", "value": "x"}\n')

    assert main(["batch", str(claims)]) == 1
    assert "line 3" in capsys.readouterr().err


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    assert main(["batch", str(tmp_path / "absent.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_bad_level_is_a_usage_error(tmp_path: Path) -> None:
    claims = _write(tmp_path / "claims.csv", CLAIMS_CSV)

    assert main(["batch", str(claims), "--level", "1.5"]) == 2


def test_progress_only_on_a_terminal() -> None:
    quiet = io.StringIO()
    Progress(quiet).iteration(3, 10)  # StringIO is not a terminal
    assert quiet.getvalue() == ""

    shown = io.StringIO()
    bar = Progress(shown, enabled=True)
    bar.iteration(3, 10)
    bar.close()
    assert "iteration 3" in shown.getvalue()
    assert shown.getvalue().endswith("\n")


def test_reader_codes_columns_without_row_objects(tmp_path: Path) -> None:
    claims = _write(tmp_path / "claims.csv", CLAIMS_CSV)

    table = read_claims(claims)

    assert table.question_ids == ("springfield", "shelbyville")
    assert table.n == 6
    assert table.hedge.tolist() == [1, 1, 2, 1, 1, 1]
