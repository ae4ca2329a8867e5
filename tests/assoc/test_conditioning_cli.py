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
        (["condition", "blockng"], "Unknown paradigm 'blockng'; did you mean 'blocking'?"),
        (["condition", "conditioned_inhibiton"], "did you mean 'conditioned_inhibition'?"),
        (["condition", "blocking", "--seed", "-1"], "--seed must be a non-negative integer; got -1"),
        (["condition", "blocking", "--plot", "x.txt"], "end the file name in one of the formats matplotlib writes: "),
        (["condition", "blocking", "--plot", "curves"], "'curves' has no extension"),
        (["condition", "Blocking: 10A(US | 10AB(US)"], "line 1, column 14: '(' is never closed before ' '"),
        (["condition", "A: 1000000000A+", "--subjects", "1"], "over the limit of 4.0 GiB"),
    ],
)
def test_condition_invalid_arguments(argv, match, capsys):
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert match in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_condition_plot_lists_formats(capsys):
    assert main(["condition", "blocking", "--plot", "x.txt"]) == 1
    assert ".png" in capsys.readouterr().err


def test_condition_uppercase_word_is_design(capsys):
    # Upper-case cues and a count mark design text, even when they spell a word.
    assert main(["-q", "condition", "ABC", "--subjects", "1"]) == 0
    assert main(["-q", "condition", "5A", "--subjects", "1"]) == 0


def test_condition_creates_output_folders(tmp_path, capsys, close_figures):
    out, image = tmp_path / "new" / "run.h5", tmp_path / "figures" / "a" / "run.png"
    code = main(["-q", "condition", "G: 3A+", "--subjects", "1", "--out", str(out), "--plot", str(image)])
    assert code == 0
    assert out.is_file()
    assert image.is_file()


def test_condition_out_parent_is_file(tmp_path, capsys):
    blocker = tmp_path / "data"
    blocker.write_text("")
    assert main(["-q", "condition", "G: 3A+", "--out", str(blocker / "run.h5")]) == 1
    assert f"{str(blocker)!r} is a file, not a folder" in capsys.readouterr().err


def test_condition_out_requires_overwrite(tmp_path, capsys):
    out = tmp_path / "run.h5"
    out.write_bytes(b"old")
    assert main(["-q", "condition", "G: 3A+", "--subjects", "1", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert f"--out file {str(out)!r} already exists; pass --overwrite" in captured.err
    assert captured.out == ""
    assert out.read_bytes() == b"old"

    assert main(["-q", "condition", "G: 3A+", "--subjects", "1", "--out", str(out), "--overwrite"]) == 0
    with h5py.File(out, "r") as file:
        assert file["groups/G/final"].shape == (1, 1, 1)


def test_condition_summary_skips_unused_cues(capsys):
    assert main(["-q", "condition", "blocking", "--subjects", "2"]) == 0
    rows = _summary_rows(capsys.readouterr().out)
    assert ("Control", "C", "US") in rows
    assert ("Blocking", "C", "US") not in rows


def test_condition_notes_fixed_order(capsys):
    assert main(["condition", "G: 3A+", "--subjects", "2"]) == 0
    assert "trials run in a fixed order" in capsys.readouterr().err
    assert main(["condition", "G: !3A+/2A-", "--subjects", "2"]) == 0
    assert "fixed order" not in capsys.readouterr().err
    assert main(["condition", "G: 3A+", "--subjects", "1"]) == 0
    assert "fixed order" not in capsys.readouterr().err


def test_condition_module_imports_lazily():
    # Registering the subcommand (as `assoc --help` does) loads no numerical library.
    code = (
        "import argparse, sys; import assoc.cli.cmd_condition as command; "
        "command.register(argparse.ArgumentParser().add_subparsers()); "
        "print(sorted(name for name in ('numba', 'h5py', 'matplotlib', 'numpy') if name in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
