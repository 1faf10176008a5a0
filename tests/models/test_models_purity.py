"""``models/`` is the sans-IO core: importing it must not pull in the web or storage stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("flask", "marshmallow", "werkzeug", "sqlalchemy")

# Runs in a fresh interpreter: this test process has long imported flask itself.
PROBE = """
import importlib, json, pkgutil, sys
import models
names = sorted(m.name for m in pkgutil.walk_packages(models.__path__, "models."))
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
"""


def test_models_import_no_web_or_storage_stack() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "models.claims" in report["modules"]
    leaked = [
        name
        for name in report["loaded"]
        if name.split(".")[0] in FORBIDDEN
    ]
    assert leaked == [], f"importing models/ loaded {leaked}"
