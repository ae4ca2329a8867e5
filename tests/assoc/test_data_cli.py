"""``assoc data info | build``: output and exit codes."""

import pytest

from assoc.cli import main


def test_build_demo_prints_shapes(capsys):
    assert main(["data", "build", "demo", "--limit", "4"]) == 0
    output = capsys.readouterr().out
    assert "train: 4 pairs" in output
    assert "audio  (4, 1, 112, 112)" in output
    assert "image  (4, 1, 28, 28)" in output
    assert "SYNTHETIC" in output
    assert "cache: none (built in memory)" in output


@pytest.mark.data
def test_build_avmnist_prints_cache_path(raw_data_dir, cache_dir, capsys):
    code = main(["data", "build", "avmnist", "--data-dir", str(raw_data_dir), "--limit", "10", "--seed", "3"])
    output = capsys.readouterr().out
    assert code == 0
    assert "test: 10 pairs" in output
    assert f"cache: {cache_dir / 'datasets'}" in output


def test_build_missing_data_dir_fails(tmp_path, cache_dir, capsys):
    code = main(["data", "build", "avmnist", "--data-dir", str(tmp_path / "absent"), "--limit", "5"])
    error = capsys.readouterr().err
    assert code == 1
    assert "Data directory not found" in error
    assert "assoc data fetch" in error
    assert not (cache_dir / "datasets").exists()


def test_build_unknown_name_is_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "build", "mnist"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'mnist'" in capsys.readouterr().err


@pytest.mark.data
def test_info_reports_checksums(raw_data_dir, cache_dir, capsys):
    assert main(["data", "info", "--data-dir", str(raw_data_dir)]) == 0
    output = capsys.readouterr().out
    assert output.count("SHA-256 matches") == 5
    assert "3,000 of 3,000 recordings" in output
    assert f"cache directory: {cache_dir}" in output
    assert "no built datasets" in output


def test_info_reports_missing_files(tmp_path, cache_dir, capsys):
    assert main(["data", "info", "--data-dir", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert output.count("missing") >= 5
    assert "run 'assoc data fetch'" in output
