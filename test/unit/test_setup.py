"""`make setup` is idempotent: after it, a second run has nothing left to do."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_setup_check(**environ: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "setup.sh"), "--check"],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_second_setup_run_would_change_nothing() -> None:
    result = run_setup_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a run would change nothing" in result.stdout
    assert "pending" not in result.stdout


def test_check_reports_what_is_missing(tmp_path: Path) -> None:
    result = run_setup_check(VENV=str(tmp_path / "venv"))
    assert result.returncode == 1
    assert f"create {tmp_path / 'venv'}" in result.stdout
    assert not (tmp_path / "venv").exists()
