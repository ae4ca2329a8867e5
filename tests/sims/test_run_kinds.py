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


def test_spiking_run_sigint_exits_130(tmp_path):
    out = tmp_path / "spiking.h5"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(REPOSITORY)}
    command = [sys.executable, "-m", "assoc", "run", "spiking-conditioning", "--quick", "--out", str(out), "--no-report"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    # The first "run:" log line comes when the first phase is done and the second starts,
    # so the signal reaches a running simulation.
    # NOTE: a SIGINT while the network was still being built ended the process with -2
    # (killed by SIGINT) in 3 of 20 runs under pytest, after the command line had logged
    # the interrupt. Outside pytest, 20 of 20 such runs exited with 130. Not solved.
    seen = []
    for line in process.stderr:
        seen.append(line)
        if " run: " in line:
            time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            break
    _, rest = process.communicate(timeout=120)
    log = "".join(seen) + rest

    assert process.returncode == 130, log
    assert "interrupted" in log
    assert not out.exists()


# One paradigm and a one-epoch unimodal stage on 300 demo pairs keep a run to a few seconds.
TINY_CONDITIONING = """\
kind = "conditioning"
name = "tiny-conditioning"
dataset = "demo"
limit = 300
paradigms = ["acquisition"]

[cues]
A = 3
B = 7
C = 5

[unimodal]
epochs = 1
batch_size = 32
lr = 2e-3
k = 32
width = 16
"""


@pytest.fixture(scope="module")
def conditioning_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("kinds")
    config = directory / "tiny.toml"
    config.write_text(TINY_CONDITIONING, encoding="utf-8")
    out = directory / "conditioning.h5"
    assert main(["run", str(config), "--out", str(out), "--no-report"]) == 0
    return config, out


@pytest.fixture(scope="module")
def spiking_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("kinds") / "spiking.h5"
    assert main(["run", "spiking-conditioning", "--quick", "--out", str(out), "--no-report"]) == 0
    return out


def test_resume_with_overwrite_is_usage_error(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["run", "conditioning", "--resume", "--overwrite"])
    assert raised.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_run_files_store_kind(conditioning_run, spiking_run):
    from sims.runfile import run_file_kind

    assert run_file_kind(conditioning_run[1]) == "conditioning"
    assert run_file_kind(spiking_run) == "spiking-conditioning"


def test_run_file_kind_of_older_files(conditioning_run, spiking_run, tmp_path):
    import shutil

    import h5py

    from sims.runfile import run_file_kind

    for source in (conditioning_run[1], spiking_run):
        copy = tmp_path / source.name
        shutil.copy(source, copy)
        with h5py.File(copy, "r+") as handle:
            kind = handle.attrs.pop("kind")
        assert run_file_kind(copy) == kind


def test_conditioning_overwrite_replaces_file(conditioning_run, capsys):
    config, out = conditioning_run
    assert main(["run", str(config), "--out", str(out), "--no-report"]) == 1
    assert "--overwrite to replace it" in capsys.readouterr().err

    before = out.stat().st_mtime_ns
    assert main(["run", str(config), "--out", str(out), "--no-report", "--overwrite"]) == 0
    assert out.stat().st_mtime_ns != before
    assert f"run file: {out}" in capsys.readouterr().out


def test_spiking_overwrite_replaces_file(spiking_run, capsys):
    assert main(["run", "spiking-conditioning", "--quick", "--out", str(spiking_run), "--no-report"]) == 1
    assert "--overwrite to replace it" in capsys.readouterr().err

    before = spiking_run.stat().st_mtime_ns
    command = ["run", "spiking-conditioning", "--quick", "--out", str(spiking_run), "--no-report", "--overwrite"]
    assert main(command) == 0
    assert spiking_run.stat().st_mtime_ns != before


def test_report_of_conditioning_run(conditioning_run, tmp_path, capsys):
    _, out = conditioning_run
    assert main(["report", str(out), "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "| acquisition.Acquisition |" in output
    assert "retrieval_visual_to_audio_R@1" not in output
    assert "plots and summary:" in output
    assert (tmp_path / "summary.md").is_file()
    assert (tmp_path / "curve_strength_A.png").is_file()
    assert not (tmp_path / "tsne.png").exists()


def test_report_of_spiking_run(spiking_run, tmp_path, capsys):
    assert main(["report", str(spiking_run), "--out", str(tmp_path), "--no-tsne"]) == 0
    output = capsys.readouterr().out
    assert "| spiking |" in output
    assert "posttest_overlap" in output
    assert "(summary.md, summary.png)" in output
    assert (tmp_path / "summary.png").is_file()


def test_binding_resume_on_conditioning_file(conditioning_run, capsys):
    _, out = conditioning_run
    assert main(["run", "binding", "--resume", "--out", str(out), "--no-report"]) == 1
    error = capsys.readouterr().err
    assert "contains a conditioning run" in error
    assert "the experiment requested is binding" in error
    assert "Missing table" not in error


def test_report_missing_file_message(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nothere.h5")]) == 1
    error = capsys.readouterr().err
    assert "not found; check the path." in error
