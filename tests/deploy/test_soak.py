"""The short soak in CI: ``bench/bench_soak.py --duration 10`` (``make soak`` runs 60 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "bench_soak.py"


def test_mixed_load_has_no_errors_and_stable_worker_memory() -> None:
    result = subprocess.run(
        [sys.executable, str(SOAK), "--duration", "10", "--threads", "4", "--workers", "2"],
        capture_output=True, text=True, timeout=180, check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert " 0 errors" in result.stdout
