import subprocess
import sys

import pytest

from assoc import __version__
from assoc.cli import build_parser, main

SUBCOMMANDS = ("condition", "data", "list", "report", "run", "sweep", "train")


def test_version_printed(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"assoc {__version__}"


def test_help_lists_every_subcommand():
    help_text = build_parser().format_help()
    for name in SUBCOMMANDS:
        assert name in help_text


def test_no_subcommand_is_usage_error(capsys):
    assert main([]) == 2
    assert "usage: assoc" in capsys.readouterr().out


def test_quiet_and_verbose_exclusive(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["-q", "-v", "list"])
    assert stop.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from assoc.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('torch', 'brian2', 'sklearn', 'matplotlib', 'numba', 'dask') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_closed_pipe_gives_no_traceback(tmp_path):
    # Like `assoc list | head -0`: the reader has gone before the first write.
    process = subprocess.Popen(
        [sys.executable, "-m", "assoc", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert "Traceback" not in stderr
    assert process.returncode == 1
