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


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--limit", "0"], "--limit must be a positive integer; got 0."),
        (["--seed", "-1"], "--seed must be a non-negative integer; got -1."),
        (["--noise-snr", "nan"], "--noise-snr must be a finite number of decibels; got nan."),
    ],
)
def test_build_invalid_flag_named(flags, message, capsys):
    assert main(["data", "build", "demo", *flags]) == 1
    error = capsys.readouterr().err
    assert message in error
    assert "or None" not in error


@pytest.mark.data
def test_build_truncated_recording_fails(raw_data_dir, tmp_path, cache_dir, capsys):
    data_dir = tmp_path / "data"
    recordings = data_dir / "fsdd" / "recordings"
    recordings.mkdir(parents=True)
    (data_dir / "mnist").symlink_to(raw_data_dir / "mnist")
    # Every recording keeps only its first 30 bytes, so the first one the build reads fails.
    for source in (raw_data_dir / "fsdd" / "recordings").glob("*.wav"):
        (recordings / source.name).write_bytes(source.read_bytes()[:30])
    code = main(["data", "build", "avmnist", "--data-dir", str(data_dir), "--limit", "5"])
    error = capsys.readouterr().err
    assert code == 1
    assert f"{recordings}/" in error
    assert "is truncated or corrupt" in error
    assert "replace the file with an intact copy" in error
    assert "Traceback" not in error
