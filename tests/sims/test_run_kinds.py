"""``assoc run`` and ``assoc report`` on the conditioning and spiking kinds: interrupts, --overwrite, reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assoc.cli import main

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_spiking_run_sigint_exits_130(tmp_path):
    out = tmp_path / "spiking.h5"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(REPOSITORY)}
    command = [sys.executable, "-m", "assoc", "run", "spiking-conditioning", "--quick", "--out", str(out), "--no-report"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    # The "setup:" log line comes just before the first Network.run call.
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "setup:" in line:
            time.sleep(0.2)
            process.send_signal(signal.SIGINT)
            break
    _, rest = process.communicate(timeout=120)
    log = "".join(seen) + rest

    assert process.returncode == 130, log
    assert "interrupted" in log
    assert not out.exists()
