import subprocess
import sys

import h5py
import pytest

from assoc.cli import main


def _summary_rows(output):
    lines = output.strip().splitlines()
    return {tuple(line.split()[:3]): float(line.split()[3]) for line in lines[2:]}


def test_condition_text_design(capsys):
    code = main(["-q", "condition", "Blocking: 10A+ | 10AB+ | 1#B;Control: 10C+ | 10AB+ | 1#B", "--subjects", "3"])
    assert code == 0
    rows = _summary_rows(capsys.readouterr().out)
    assert rows[("Blocking", "B", "US")] < 0.1
    assert rows[("Control", "B", "US")] > 0.3


def test_condition_paradigm_with_files(tmp_path, capsys, close_figures):
    out, image = tmp_path / "run.h5", tmp_path / "run.png"
    code = main(["-q", "condition", "overexpectation", "--subjects", "4", "--seed", "3",
                 "--out", str(out), "--plot", str(image)])  # fmt: skip
    assert code == 0
    rows = _summary_rows(capsys.readouterr().out)
    assert rows[("Overexpectation", "A", "US")] < rows[("Control", "A", "US")]
    with h5py.File(out, "r") as file:
        assert file["groups/Overexpectation/strength"].shape[0] == 4
        assert file.attrs["seed"] == "3"
    assert image.stat().st_size > 1000


def test_condition_toml_file(tmp_path, capsys):
    path = tmp_path / "design.toml"
    path.write_text('[groups]\nG = ["5A+", "1#A"]\n[parameters]\nalpha = 1.0\nbeta_plus = 1.0\n')
    assert main(["-q", "condition", str(path), "--subjects", "1"]) == 0
    assert _summary_rows(capsys.readouterr().out)[("G", "A", "US")] == pytest.approx(1.0)


def test_condition_bad_design_reports_position(capsys):
    code = main(["condition", "G: 10A+ | 5@B"])
    assert code == 1
    captured = capsys.readouterr()
    assert "line 1, column 12" in captured.err
    assert "            ^" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["condition", "missing.toml"], "not found"),
        (["condition", "G: 1A+", "--subjects", "0"], "--subjects must be at least 1"),
    ],
)
def test_condition_invalid_arguments(argv, match, capsys):
    assert main(argv) == 1
    assert match in capsys.readouterr().err


def test_condition_module_imports_lazily():
    # Registering the subcommand (as `assoc --help` does) loads no numerical library.
    code = (
        "import argparse, sys; import assoc.cli.cmd_condition as command; "
        "command.register(argparse.ArgumentParser().add_subparsers()); "
        "print(sorted(name for name in ('numba', 'h5py', 'matplotlib', 'numpy') if name in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
