"""``assoc list``, config errors through ``assoc run``, and per-dataset config sizes."""

from __future__ import annotations

import logging

import pytest

from assoc.cli import main
from assoc.errors import ConfigError
from sims.config import load_config, parse_config

VALID = """\
name = "small"
dataset = "demo"

[binding]
budget_pairs = 100
checkpoint_every = 50
block_size = 10

[learners.hebbian]

[datasets.avmnist]
limit = 400

[datasets.avmnist.binding]
budget_pairs = 200
checkpoint_every = 100

[quick]
limit = 60
"""


def test_list_shows_binding(capsys):
    assert main(["list"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("binding")
    assert "gradient training and by associative learners" in output


def test_run_unknown_key_names_it(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(VALID.replace("block_size = 10", "block_size = 10\nblok = 3"), encoding="utf-8")
    assert main(["run", str(path)]) == 1
    error = capsys.readouterr().err
    assert "Unknown key 'binding.blok'" in error
    assert "block_size" in error


def test_run_invalid_value_names_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(VALID.replace("limit = 400", "limit = 0"), encoding="utf-8")
    assert main(["run", str(path)]) == 1
    error = capsys.readouterr().err
    assert "Key 'limit'" in error
    assert "[datasets.avmnist]" in error
    assert "must be >= 1; got 0" in error


def test_run_unknown_experiment(capsys):
    assert main(["run", "bindng"]) == 1
    assert "did you mean 'binding'" in capsys.readouterr().err


def test_dataset_table_applies_to_its_dataset():
    demo = parse_config(VALID)
    avmnist = parse_config(VALID, dataset="avmnist")
    assert demo.limit is None
    assert demo.binding.budget_pairs == 100
    assert avmnist.dataset == "avmnist"
    assert avmnist.limit == 400
    assert avmnist.binding.budget_pairs == 200
    assert avmnist.binding.block_size == 10


def test_quick_overrides_dataset_table():
    quick = parse_config(VALID, dataset="avmnist", quick=True)
    assert quick.limit == 60
    assert quick.binding.budget_pairs == 200


def test_dataset_table_cannot_set_dataset():
    text = VALID.replace("[datasets.avmnist]\n", '[datasets.avmnist]\ndataset = "demo"\n')
    with pytest.raises(ConfigError, match=r"Key 'datasets.avmnist.dataset' .* not allowed"):
        parse_config(text)


def test_builtin_avmnist_sizes_are_larger():
    demo = load_config("binding")
    avmnist = load_config("binding", dataset="avmnist")
    assert avmnist.limit == 10000
    assert avmnist.binding.budget_pairs > demo.binding.budget_pairs
    assert avmnist.learner("gradient").params["batch_size"] == 128


def test_run_existing_file_message(tmp_path, capsys):
    out = tmp_path / "run.h5"
    out.write_bytes(b"")
    assert main(["run", "binding", "--quick", "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert "already exists" in error
    assert "--overwrite" in error


def test_dataset_table_typo_suggests_name():
    with pytest.raises(ConfigError) as raised:
        parse_config(VALID.replace("[datasets.avmnist]", "[datasets.avmnst]"))
    message = str(raised.value)
    assert "Unknown dataset table [datasets.avmnst]" in message
    assert "did you mean 'avmnist'?" in message


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def config_warnings():
    # A handler on the module logger itself, because assoc.cli.main stops the
    # package loggers from propagating to pytest's root handler.
    records = _Records()
    logger = logging.getLogger("sims.config")
    logger.addHandler(records)
    yield records.messages
    logger.removeHandler(records)


def test_quick_without_table_warns(tmp_path, config_warnings):
    path = tmp_path / "noquick.toml"
    path.write_text(VALID.replace("[quick]\nlimit = 60\n", ""), encoding="utf-8")
    config = load_config(path, quick=True)
    assert config.limit == load_config(path).limit
    assert any(f"{path} has no [quick] table" in message for message in config_warnings)


def test_quick_with_table_no_warning(tmp_path, config_warnings):
    path = tmp_path / "quick.toml"
    path.write_text(VALID, encoding="utf-8")
    assert load_config(path, quick=True).limit == 60
    assert config_warnings == []
