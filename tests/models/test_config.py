import pytest

from assoc.errors import ConfigError
from models.config import TrainConfig, parse_override


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"variant": "vae"}, r"Config key 'variant' is 'vae'; choose one of 'rotation'"),
        ({"k": 1}, r"Config key 'k' must be an integer >= 2; got 1"),
        ({"k": 8.5}, r"Config key 'k' must be an integer"),
        ({"width": 0}, r"Config key 'width' must be an integer >= 1"),
        ({"k": 8, "width": 16}, r"Config key 'width' \(16\) exceeds k \(8\)"),
        ({"batch_size": 1}, r"'batch_size' must be an integer >= 2 because InfoNCE"),
        ({"lr": 0.0}, r"Config key 'lr' must be a finite number > 0"),
        ({"lr": float("nan")}, r"Config key 'lr' must be a finite number"),
        ({"temperature": -1.0}, r"Config key 'temperature' must be a finite number > 0"),
        ({"cross_weight": -0.5}, r"Config key 'cross_weight' must be a finite number >= 0"),
        ({"rotation_map": "svd"}, r"Config key 'rotation_map' is 'svd'"),
        ({"device": "tpu"}, r"Config key 'device' is 'tpu'"),
        ({"eval_split": "train"}, r"Config key 'eval_split' is 'train'"),
        ({"limit": 0}, r"Config key 'limit' must be an integer >= 1"),
        ({"max_generator_angle": 4.0}, r"'max_generator_angle' must lie in \(0, π\)"),
        ({"joint_weight": 0, "cross_weight": 0, "contrastive_weight": 0}, r"are all 0"),
        ({"epochs": True}, r"Config key 'epochs' must be an integer"),
        ({"noise_snr": float("inf")}, r"Config key 'noise_snr' must be a finite number; got inf"),
    ],
)
def test_bad_values_name_the_key(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)


def test_replace_rejects_unknown_key():
    with pytest.raises(ConfigError, match="Unknown config key"):
        TrainConfig().replace(kk=3)


def test_dict_round_trip():
    config = TrainConfig(k=16, width=8, limit=50)
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k=128", ("k", 128)),
        ("lr=0.01", ("lr", 0.01)),
        ("degrade_images=yes", ("degrade_images", True)),
        ("limit=none", ("limit", None)),
        ("noise_snr=-5", ("noise_snr", -5.0)),
        ("rotation_map=cayley", ("rotation_map", "cayley")),
    ],
)
def test_parse_override(text, expected):
    assert parse_override(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("k", "is not KEY=VALUE"), ("k=abc", "Config key 'k' expects int"), ("nope=1", "Unknown config key 'nope'")],
)
def test_parse_override_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_override(text)


def test_unknown_key_suggests_closest():
    with pytest.raises(ConfigError, match=r"Unknown config key 'kk'\. Did you mean 'k'\? Valid keys: variant, "):
        parse_override("kk=1")


def test_unknown_keys_suggest_each():
    with pytest.raises(ConfigError, match=r"Did you mean 'epochs' for 'epoch', 'k' for 'kk'\?"):
        TrainConfig().replace(kk=3, epoch=2, zzzz=1)


def test_unknown_key_without_close_match():
    with pytest.raises(ConfigError) as error_info:
        parse_override("zzzz=1")
    assert "Did you mean" not in str(error_info.value)


def test_from_dict_names_flag():
    with pytest.raises(ConfigError, match=r"^--epochs \(config key 'epochs'\) must be an integer >= 1; got 0\.$"):
        TrainConfig.from_dict({"epochs": 0}, flags={"epochs": "--epochs"})


def test_from_dict_keeps_key_without_flag():
    with pytest.raises(ConfigError, match=r"^Config key 'epochs' must be an integer >= 1; got 0\.$"):
        TrainConfig.from_dict({"epochs": 0}, flags={"seed": "--seed"})
