"""The claims CSV reader of ``triangulate batch``: its fast path for unquoted files against the
standard library's reader, and what the command imports.

An unquoted CSV is split in one pass over its bytes (``_split_plain_csv``); a file with a quote
anywhere goes through :mod:`csv`. Quoting one field must change no answer and no refusal, so
every case below is read both ways (the quoted copy quotes the header's first name) and must
give the same table or the same message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.cli.batch_files import InputError, read_claims

HEAD = "question,source,kind,value"

#: (name, file text). Both readers must agree on each; the comment says what it probes.
CASES = [
    ("plain", f"{HEAD}\nq1,a,point,1.5\nq1,b,point,2\n"),
    ("spaces around fields", f"{HEAD}\n q1 , a , point , 1.5 \nq1,b,point,\t2\n"),
    ("blank cells", "question,source,kind,value,low,high,hedge\nq1,a,point,1.5,,,\n"
                    "q1,b,range,,1,2,about\n"),
    ("underscored digits", f"{HEAD}\nq1,a,point,1_000\nq1,b,point,2\n"),
    ("bad number", f"{HEAD}\nq1,a,point,1.5\nq1,b,point,abc\n"),
    ("hex is not a number", f"{HEAD}\nq1,a,point,0x10\n"),
    ("nan is missing", f"{HEAD}\nq1,a,point,nan\n"),
    ("inf is refused", f"{HEAD}\nq1,a,point,inf\n"),
    ("short row", f"{HEAD}\nq1,a,point\nq1,b,point,2\n"),
    ("long row", f"{HEAD}\nq1,a,point,1,2\n"),
    ("blank line inside", f"{HEAD}\nq1,a,point,1.5\n\nq1,b,point,2\n"),
    ("blank lines at the end", f"{HEAD}\nq1,a,point,1.5\nq1,b,point,2\n\n\n"),
    ("CRLF", f"{HEAD}\r\nq1,a,point,1.5\r\nq1,b,point,2\r\n"),
    ("lone CR", f"{HEAD}\rq1,a,point,1.5\rq1,b,point,2\r"),
    ("no newline at the end", f"{HEAD}\nq1,a,point,1.5\nq1,b,point,2"),
    ("byte order mark", f"\ufeff{HEAD}\nq1,a,point,1.5\n"),
    ("empty id", f"{HEAD}\nq1,,point,1.5\n"),
    ("bad kind", f"{HEAD}\nq1,a,pt,1.5\n"),
    ("repeated column", f"{HEAD},value\nq1,a,point,1.5,1\n"),
    ("header only", f"{HEAD}\n"),
    ("origin", f"{HEAD},origin\nq1,a,point,1.5,\nq1,b,point,2,wire\n"),
    ("non-ASCII ids", f"{HEAD}\nqé,ß,point,1.5\n"),
]


def _quoted(text: str) -> str:
    """The same file with the header's first name quoted (the standard library's path)."""
    at = 1 if text.startswith("\ufeff") else 0
    return text[:at] + '"question"' + text[at + len("question"):]


def _read(path: Path, text: str) -> Any:
    path.write_bytes(text.encode("utf-8"))
    try:
        table = read_claims(path)
    except InputError as exc:
        return ("refused", str(exc).replace(str(path), "FILE"))
    return ("read", table.question_ids, table.source_ids, table.kind.tolist(),
            table.hedge.tolist(), table.origin.tolist(),
            [np.asarray(getattr(table, name)).tolist() for name in ("value", "low", "high")])


@pytest.mark.parametrize(("name", "text"), CASES, ids=[name for name, _ in CASES])
def test_quoting_a_field_changes_no_answer(tmp_path: Path, name: str, text: str) -> None:
    plain = _read(tmp_path / "plain.csv", text)
    quoted = _read(tmp_path / "quoted.csv", _quoted(text))

    assert repr(plain) == repr(quoted)


@pytest.mark.parametrize(("name", "expected"), [
    ("blank line inside", ("refused", "FILE line 3: expected 4 fields as in the header, got 0.")),
    ("repeated column", ("refused", "FILE: column 'value' appears twice in the header.")),
])
def test_the_refusals_name_the_line_or_column(tmp_path: Path, name: str,
                                              expected: tuple[str, str]) -> None:
    text = dict(CASES)[name]
    for path, body in ((tmp_path / "a.csv", text), (tmp_path / "b.csv", _quoted(text))):
        assert _read(path, body) == expected


@pytest.mark.parametrize("name", ["blank lines at the end", "lone CR"])
def test_these_files_are_read_whole(tmp_path: Path, name: str) -> None:
    text = dict(CASES)[name]
    for path, body in ((tmp_path / "a.csv", text), (tmp_path / "b.csv", _quoted(text))):
        read = _read(path, body)
        assert read[0] == "read"
        assert read[2] == ("a", "b")
        assert read[6][0] == [1.5, 2.0]


def test_the_batch_command_loads_no_web_database_or_scipy_module(tmp_path: Path) -> None:
    """``triangulate batch`` on a CSV, in a fresh interpreter: the modules it loaded.

    The command starts as fast as numpy and the batch model do (issue 15 times it end to
    end); Flask, the HTTP schemas, the database layer, babel and scipy belong to other
    commands and would add their import time to every run.
    """
    claims = tmp_path / "claims.csv"
    claims.write_text(f"{HEAD}\nq1,a,point,1.5\nq1,b,point,2\nq2,a,point,3\n",
                      encoding="utf-8")
    probe = (
        "import json, sys\n"
        "from service.cli.main import main\n"
        f"code = main(['batch', {str(claims)!r}, '--out', {str(tmp_path / 'out.csv')!r}])\n"
        "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    code, loaded = json.loads(done.stdout.splitlines()[-1])
    assert code == 0
    heavy = {"flask", "werkzeug", "flask_smorest", "marshmallow", "webargs", "apispec",
             "jinja2", "sqlalchemy", "alembic", "babel", "scipy", "matplotlib", "pandas",
             "dask", "pyarrow"}
    assert "numpy" in loaded  # the probe did run the command
    assert sorted(heavy & set(loaded)) == []
