import dataclasses

import pytest

from assoc.errors import ConfigError, DataNotFoundError
from sims.config import (
    BUILTIN_EXPERIMENTS,
    LEARNER_PARAMETERS,
    builtin_descriptions,
    builtin_names,
    config_to_toml,
    load_config,
    parse_config,
)

MINIMAL = """\
name = "tiny"
[binding]
budget_pairs = 100
checkpoint_every = 50
block_size = 10
[learners.hebbian]
"""


def test_builtin_binding_loads():
    config = load_config("binding")
    assert "binding" in builtin_names()
    assert config.name == "binding"
    assert not config.quick
    assert [learner.kind for learner in config.learners] == [
        "gradient",
        "hebbian",
        "hebbian_normalised",
        "delta",
        "hopfield",
        "som",
    ]
    assert config.learner("hopfield").params["beta"] == 1.0


def test_quick_shrinks_sizes():
    full = load_config("binding")
    quick = load_config("binding", quick=True)
    assert quick.quick
    assert quick.limit is not None
    assert quick.binding.budget_pairs < full.binding.budget_pairs
    assert quick.unimodal.epochs < full.unimodal.epochs
    assert quick.snapshot_size < full.snapshot_size
    # Keys that [quick] does not set keep their full values.
    assert quick.unimodal.k == full.unimodal.k
    assert quick.learners == full.learners


def test_defaults_fill_missing_keys():
    config = parse_config(MINIMAL)
    assert config.seeds == (0,)
    assert config.dataset == "demo"
    assert config.unimodal.epochs == 3
    (learner,) = config.learners
    assert learner.kind == "hebbian"
    assert learner.params == {"eta": 1.0}


def test_params_are_read_only():
    config = parse_config(MINIMAL)
    with pytest.raises(TypeError):
        config.learners[0].params["eta"] = 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.name = "other"


def test_toml_round_trip():
    for quick in (False, True):
        config = load_config("binding", quick=quick)
        assert parse_config(config_to_toml(config), quick=quick) == config


def test_toml_round_trip_odd_strings():
    text = MINIMAL.replace('name = "tiny"', 'name = "tiny"\ndescription = "quote \\" and\\nnewline"')
    config = parse_config(text)
    assert parse_config(config_to_toml(config)) == config


def test_load_from_file(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_config(path).name == "tiny"
    assert load_config(str(path)).name == "tiny"


def test_replace_validates():
    config = load_config("binding")
    assert config.replace(seeds=(3,), dataset="avmnist").seeds == (3,)
    with pytest.raises(ConfigError, match="Unknown config key 'seed'; did you mean 'seeds'"):
        config.replace(seed=3)
    with pytest.raises(ConfigError, match="must list non-negative integers; got -1"):
        config.replace(seeds=(-1,))


# Error messages


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # Unknown keys: the key, the suggestion and the valid keys.
        (
            ("[binding]", "[binding]\nbudget_pair = 5"),
            r"Unknown key 'binding.budget_pair'.*did you mean 'budget_pairs'\?.*Valid keys in \[binding\]: "
            r"budget_pairs, checkpoint_every",
        ),
        (("name =", "sedes = [1]\nname ="), r"Unknown key 'sedes'.*did you mean 'seeds'\?"),
        (("[learners.hebbian]", "[learners.hebbian]\netta = 2.0"), r"'learners.hebbian.etta'.*did you mean 'eta'\?"),
        # Invalid values: the key, the value and the allowed range or choices.
        (("block_size = 10", "block_size = 0"), r"Key 'binding.block_size' in config must be >= 1; got 0"),
        (("block_size = 10", "block_size = 7"), r"'binding.block_size' \(7\).*does not divide"),
        (("budget_pairs = 100", "budget_pairs = 10"), r"'binding.checkpoint_every' \(50\).*exceeds"),
        (("budget_pairs = 100", 'budget_pairs = "many"'), r"'binding.budget_pairs' in config must be an integer"),
        (("budget_pairs = 100", "budget_pairs = true"), r"'binding.budget_pairs' in config must be an integer"),
        (
            ("[learners.hebbian]", '[learners.hebbian]\nkind = "hebian"'),
            r"Key 'learners.hebbian.kind' in config is 'hebian'; did you mean 'hebbian'\? Choose one of 'gradient'",
        ),
        (("[learners.hebbian]", "[learners.mine]"), r"Missing key 'learners.mine.kind'.*set it to one of"),
        (("[learners.hebbian]", "[learners.hebbian]\neta = -1"), r"'learners.hebbian.eta' in config must be > 0.0"),
        (('name = "tiny"', 'name = "tiny"\neval_split = "train"'), r"'eval_split' in config is 'train'.*'val', 'test'"),
        (('name = "tiny"', "description = 1"), r"Missing key 'name'"),
        (('name = "tiny"', 'name = "tiny"\nseeds = [1, 1]'), r"lists a seed twice"),
        (('name = "tiny"', 'name = "tiny"\n[unimodal]\nk = 8\nwidth = 16'), r"'unimodal.width' \(16\).*exceeds"),
        (("[learners.hebbian]", "[other]"), r"Missing table \[learners\]"),
        (("[binding]", "[binding"), r"Invalid TOML in config"),
    ],
)
def test_invalid_config_messages(edit, message):
    old, new = edit
    assert old in MINIMAL
    with pytest.raises(ConfigError, match=message):
        parse_config(MINIMAL.replace(old, new, 1))


def test_invalid_quick_table_fails_without_quick():
    text = MINIMAL + "[quick.binding]\nbudget_pairs = 0\n"
    with pytest.raises(ConfigError, match=r"'binding.budget_pairs' in config with \[quick\] must be >= 1"):
        parse_config(text)


def test_unknown_experiment_suggests_name():
    with pytest.raises(ConfigError, match="Unknown experiment 'bindng'; did you mean 'binding'"):
        load_config("bindng")


def test_missing_config_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_builtin_learner_kinds_known():
    for text in BUILTIN_EXPERIMENTS.values():
        for learner in parse_config(text).learners:
            assert learner.kind in LEARNER_PARAMETERS


def test_builtin_descriptions():
    descriptions = builtin_descriptions()
    assert list(descriptions) == builtin_names()
    assert descriptions["binding"].startswith("Unimodal pre-training")
