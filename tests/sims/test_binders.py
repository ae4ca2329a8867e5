import numpy as np
import pytest
from scipy.stats import special_ortho_group

from assoc.errors import ConfigError
from sims.binders import (
    Binder,
    DeltaRuleBinder,
    HebbianBinder,
    HopfieldBinder,
    LinkedSOMBinder,
    NormalisedHebbianBinder,
    make_binder,
)
from sims.config import load_config

K = 4


def _orthonormal_pairs(k=K, seed=0):
    """k pairs whose visual codes are an orthonormal basis, audio codes arbitrary."""
    rng = np.random.default_rng(seed)
    z_visual = special_ortho_group.rvs(k, random_state=seed)
    z_audio = rng.normal(size=(k, k))
    return z_visual, z_audio


def _rotated_pairs(n_pairs=50, k=K, seed=1):
    """Pairs with z_a = R z_v for a fixed rotation R (row form: z_a = z_v Rᵀ)."""
    rng = np.random.default_rng(seed)
    rotation = special_ortho_group.rvs(k, random_state=seed + 100)
    z_visual = rng.normal(size=(n_pairs, k))
    return z_visual, z_visual @ rotation.T, rotation


# Hebbian outer product


def test_hebbian_orthonormal_keys_recall_exactly():
    z_visual, z_audio = _orthonormal_pairs()
    binder = HebbianBinder(K)
    binder.partial_fit(z_visual, z_audio)
    np.testing.assert_allclose(binder.recall(z_visual, "visual"), z_audio, atol=1e-12)


def test_hebbian_reverse_direction_is_transpose():
    # Orthonormal audio keys recall their visual codes through Mᵀ.
    z_audio, z_visual = _orthonormal_pairs(seed=2)
    binder = HebbianBinder(K)
    binder.partial_fit(z_visual, z_audio)
    np.testing.assert_allclose(binder.recall(z_audio, "audio"), z_visual, atol=1e-12)


def test_hebbian_matrix_closed_form():
    rng = np.random.default_rng(3)
    z_visual = rng.normal(size=(7, K))
    z_audio = rng.normal(size=(7, K))
    binder = HebbianBinder(K, eta=0.5)
    binder.partial_fit(z_visual[:3], z_audio[:3])
    binder.partial_fit(z_visual[3:], z_audio[3:])
    expected = 0.5 * sum(np.outer(z_audio[i], z_visual[i]) for i in range(7))
    np.testing.assert_allclose(binder.association, expected)
    assert binder.pairs_seen == 7


def test_hebbian_recall_before_fit_is_zero():
    z = np.ones((2, K))
    np.testing.assert_array_equal(HebbianBinder(K).recall(z, "audio"), np.zeros((2, K)))


def test_hebbian_state_round_trip():
    z_visual, z_audio, _ = _rotated_pairs()
    binder = HebbianBinder(K)
    binder.partial_fit(z_visual, z_audio)
    restored = HebbianBinder(K)
    restored.load_state_dict(binder.state_dict())
    assert restored.pairs_seen == 50
    np.testing.assert_array_equal(restored.recall(z_visual, "visual"), binder.recall(z_visual, "visual"))


# Normalised Hebbian


def test_whitened_recovers_rotation():
    z_visual, z_audio, rotation = _rotated_pairs()
    binder = NormalisedHebbianBinder(K, ridge=0.0)
    binder.partial_fit(z_visual, z_audio)
    np.testing.assert_allclose(binder.linear_map("visual"), rotation, atol=1e-10)
    np.testing.assert_allclose(binder.linear_map("audio"), rotation.T, atol=1e-10)
    np.testing.assert_allclose(binder.recall(z_audio, "audio"), z_visual, atol=1e-10)


def test_whitened_ridge_shrinks_orthonormal_recall():
    # Orthonormal basis keys: C_vv = I, tr / k = 1, so recall = z_a / (1 + λ).
    z_visual, z_audio = _orthonormal_pairs()
    binder = NormalisedHebbianBinder(K, ridge=0.25)
    binder.partial_fit(z_visual, z_audio)
    np.testing.assert_allclose(binder.recall(z_visual, "visual"), z_audio / 1.25, atol=1e-12)


def test_pairs_normalisation_is_mean_outer_product():
    z_visual, z_audio = _orthonormal_pairs()
    binder = NormalisedHebbianBinder(K, normalisation="pairs")
    binder.partial_fit(z_visual, z_audio)
    # Each orthonormal key recalls its own target divided by the k pairs seen.
    np.testing.assert_allclose(binder.recall(z_visual, "visual"), z_audio / K, atol=1e-12)


def test_target_norm_rescales_recall():
    z_visual, z_audio = _orthonormal_pairs()
    binder = NormalisedHebbianBinder(K, normalisation="target_norm")
    binder.partial_fit(z_visual, z_audio)
    recalled = binder.recall(z_visual, "visual")
    mean_norm = np.linalg.norm(z_audio, axis=1).mean()
    np.testing.assert_allclose(np.linalg.norm(recalled, axis=1), mean_norm)
    # Direction unchanged: each row is a positive multiple of its target.
    cosines = np.sum(recalled * z_audio, axis=1) / (np.linalg.norm(recalled, axis=1) * np.linalg.norm(z_audio, axis=1))
    np.testing.assert_allclose(cosines, 1.0)


def test_blocks_equal_one_batch():
    z_visual, z_audio, _ = _rotated_pairs(n_pairs=30)
    whole = NormalisedHebbianBinder(K)
    whole.partial_fit(z_visual, z_audio)
    streamed = NormalisedHebbianBinder(K)
    for start in range(0, 30, 7):
        streamed.partial_fit(z_visual[start : start + 7], z_audio[start : start + 7])
    np.testing.assert_allclose(streamed.recall(z_visual, "visual"), whole.recall(z_visual, "visual"))


def test_normalised_state_round_trip():
    z_visual, z_audio, _ = _rotated_pairs()
    binder = NormalisedHebbianBinder(K, normalisation="target_norm")
    binder.partial_fit(z_visual, z_audio)
    restored = NormalisedHebbianBinder(K, normalisation="target_norm")
    restored.recall(z_visual, "visual")
    restored.load_state_dict(binder.state_dict())
    np.testing.assert_array_equal(restored.recall(z_audio, "audio"), binder.recall(z_audio, "audio"))


def test_normalised_recall_before_fit_is_zero():
    for normalisation in ("pairs", "target_norm", "whitened"):
        binder = NormalisedHebbianBinder(K, normalisation=normalisation)
        np.testing.assert_array_equal(binder.recall(np.ones((3, K)), "visual"), np.zeros((3, K)))


# Interface and factory


def test_binders_meet_protocol():
    for binder in (HebbianBinder(K), NormalisedHebbianBinder(K)):
        assert isinstance(binder, Binder)


def test_make_binder_from_config():
    config = load_config("binding")
    for name in ("hebbian", "hebbian_normalised"):
        learner = config.learner(name)
        binder = make_binder(learner.kind, 8, name=learner.name, **learner.params)
        assert binder.name == name
        assert binder.recall(np.zeros((1, 8)), "audio").shape == (1, 8)


# Bad input


def test_rejects_bad_input():
    binder = HebbianBinder(K)
    with pytest.raises(ConfigError, match=r"z_visual must have shape \(n_samples, 4\); got \(2, 3\)"):
        binder.partial_fit(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ConfigError, match="z_visual has 2 rows but z_audio has 3"):
        binder.partial_fit(np.zeros((2, K)), np.zeros((3, K)))
    with pytest.raises(ConfigError, match="Unknown source modality 'visal'; did you mean 'visual'"):
        binder.recall(np.zeros((1, K)), "visal")
    with pytest.raises(ConfigError, match="z contains NaN"):
        binder.recall(np.full((1, K), np.nan), "visual")
    with pytest.raises(ConfigError, match="eta must be a finite number > 0; got 0"):
        HebbianBinder(K, eta=0)
    with pytest.raises(ConfigError, match="Unknown normalisation 'pair'; did you mean 'pairs'"):
        NormalisedHebbianBinder(K, normalisation="pair")
    with pytest.raises(ConfigError, match="Unknown binder kind 'hebian'; did you mean 'hebbian'"):
        make_binder("hebian", K)


def test_rejects_bad_state():
    binder = HebbianBinder(K)
    with pytest.raises(ConfigError, match="lacks pairs_seen"):
        binder.load_state_dict({"association": np.zeros((K, K))})
    with pytest.raises(ConfigError, match=r"has shape \(3, 3\); expected \(4, 4\)"):
        binder.load_state_dict({"association": np.zeros((3, 3)), "pairs_seen": 0})


# Rescorla-Wagner / delta rule


def test_delta_acquisition_closed_form():
    # An orthonormal key presented n times recalls (1 − (1 − αβ)ⁿ) of its target.
    z_visual, z_audio = _orthonormal_pairs()
    binder = DeltaRuleBinder(K, alpha=0.5, beta_plus=0.4)
    for _ in range(3):
        binder.partial_fit(z_visual, z_audio)
    expected = (1.0 - (1.0 - 0.2) ** 3) * z_audio
    np.testing.assert_allclose(binder.recall(z_visual, "visual"), expected, atol=1e-12)
    assert binder.pairs_seen == 3 * K


def test_delta_reverse_direction_learns_separately():
    z_audio, z_visual = _orthonormal_pairs(seed=4)
    binder = DeltaRuleBinder(K, beta_plus=1.0)
    binder.partial_fit(z_visual, z_audio)
    # Rate 1 writes each orthonormal audio key's target in one presentation.
    np.testing.assert_allclose(binder.recall(z_audio, "audio"), z_visual, atol=1e-12)


def test_delta_converges_to_rotation():
    z_visual, z_audio, rotation = _rotated_pairs(n_pairs=400)
    z_visual, z_audio = z_visual / 2.0, z_audio / 2.0
    binder = DeltaRuleBinder(K, beta_plus=0.2)
    binder.partial_fit(z_visual, z_audio)
    np.testing.assert_allclose(binder.state_dict()["visual_to_audio"], rotation, atol=1e-6)


def test_delta_state_round_trip():
    z_visual, z_audio, _ = _rotated_pairs()
    binder = DeltaRuleBinder(K)
    binder.partial_fit(z_visual, z_audio)
    restored = DeltaRuleBinder(K)
    restored.load_state_dict(binder.state_dict())
    restored.partial_fit(z_visual[:5], z_audio[:5])
    binder.partial_fit(z_visual[:5], z_audio[:5])
    np.testing.assert_array_equal(restored.recall(z_audio, "audio"), binder.recall(z_audio, "audio"))


def test_delta_rejects_bad_alpha():
    with pytest.raises(ConfigError, match=r"alpha must lie in \(0, 1\]; got 1.5"):
        DeltaRuleBinder(K, alpha=1.5)


# Modern Hopfield


def test_hopfield_large_beta_recalls_stored_pairs():
    z_visual, z_audio = _orthonormal_pairs()
    binder = HopfieldBinder(K, beta=200.0)
    binder.partial_fit(z_visual, z_audio)
    np.testing.assert_allclose(binder.recall(z_visual, "visual"), z_audio, atol=1e-12)
    # The reverse direction uses the audio codes as keys.
    reverse = HopfieldBinder(K, beta=200.0)
    reverse.partial_fit(z_audio, z_visual)
    np.testing.assert_allclose(reverse.recall(z_visual, "audio"), z_audio, atol=1e-12)


def test_hopfield_softmax_closed_form():
    # Orthonormal keys: the weights for key j are e^β at j and 1 elsewhere, over e^β + k − 1.
    z_visual, z_audio = _orthonormal_pairs()
    beta = 1.5
    binder = HopfieldBinder(K, beta=beta)
    binder.partial_fit(z_visual, z_audio)
    weights = (np.exp(beta) - 1.0) * np.eye(K) + 1.0
    weights /= np.exp(beta) + K - 1
    np.testing.assert_allclose(binder.recall(z_visual, "visual"), weights @ z_audio, atol=1e-12)


def test_hopfield_zero_beta_returns_mean():
    z_visual, z_audio, _ = _rotated_pairs(n_pairs=10)
    binder = HopfieldBinder(K, beta=0.0)
    binder.partial_fit(z_visual, z_audio)
    recalled = binder.recall(z_visual[:3], "visual")
    np.testing.assert_allclose(recalled, np.tile(z_audio.mean(axis=0), (3, 1)), atol=1e-12)


def test_hopfield_capacity_drops_oldest():
    z_visual, z_audio, _ = _rotated_pairs(n_pairs=10)
    binder = HopfieldBinder(K, capacity=4)
    binder.partial_fit(z_visual[:6], z_audio[:6])
    binder.partial_fit(z_visual[6:], z_audio[6:])
    state = binder.state_dict()
    np.testing.assert_array_equal(state["visual"], z_visual[6:])
    assert binder.pairs_seen == 10


def test_hopfield_state_round_trip_and_errors():
    z_visual, z_audio, _ = _rotated_pairs(n_pairs=10)
    binder = HopfieldBinder(K)
    binder.partial_fit(z_visual, z_audio)
    restored = HopfieldBinder(K)
    restored.load_state_dict(binder.state_dict())
    np.testing.assert_array_equal(restored.recall(z_visual, "visual"), binder.recall(z_visual, "visual"))
    with pytest.raises(ConfigError, match="contains 10 pairs, above capacity 5"):
        HopfieldBinder(K, capacity=5).load_state_dict(binder.state_dict())
    with pytest.raises(ConfigError, match="beta must be a finite number >= 0"):
        HopfieldBinder(K, beta=-1.0)


# Linked SOMs


def _clustered_pairs(n_per_class=30, k=K, seed=5):
    """Four classes with well-separated centres in each modality, rotated between them."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), n_per_class)
    centres = 5.0 * np.eye(4, k)
    z_visual = centres[labels] + rng.normal(scale=0.2, size=(labels.shape[0], k))
    rotation = special_ortho_group.rvs(k, random_state=seed)
    z_audio = z_visual @ rotation.T
    return z_visual, z_audio, labels


def test_som_links_recall_the_right_class():
    z_visual, z_audio, labels = _clustered_pairs()
    binder = LinkedSOMBinder(K, rows=4, columns=4, som_epochs=5, seed=0)
    binder.fit_unimodal(z_visual, z_audio)
    binder.partial_fit(z_visual, z_audio)
    recalled = binder.recall(z_visual, "visual")
    assert recalled.shape == z_visual.shape
    # The recalled audio code lies nearest its own class's audio centre.
    centres = np.stack([z_audio[labels == label].mean(axis=0) for label in range(4)])
    nearest = np.argmin(((recalled[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(nearest == labels) > 0.9


def test_som_state_round_trip():
    z_visual, z_audio, _ = _clustered_pairs(n_per_class=10)
    binder = LinkedSOMBinder(K, rows=3, columns=3, som_epochs=2, seed=1)
    binder.fit_unimodal(z_visual, z_audio)
    binder.partial_fit(z_visual, z_audio)
    restored = LinkedSOMBinder(K, rows=3, columns=3, som_epochs=2, seed=2)
    restored.load_state_dict(binder.state_dict())
    np.testing.assert_allclose(restored.recall(z_audio, "audio"), binder.recall(z_audio, "audio"))
    assert restored.pairs_seen == binder.pairs_seen


def test_som_requires_unimodal_fit():
    binder = LinkedSOMBinder(K, rows=3, columns=3)
    with pytest.raises(ConfigError, match="call fit_unimodal"):
        binder.partial_fit(np.zeros((2, K)), np.zeros((2, K)))
    with pytest.raises(ConfigError, match="Unknown link_rule 'bmus'; did you mean 'bmu'"):
        LinkedSOMBinder(K, link_rule="bmus")


def test_make_binder_every_config_kind():
    config = load_config("binding")
    for learner in config.learners:
        if learner.kind == "gradient":
            continue
        binder = make_binder(learner.kind, K, name=learner.name, seed=0, **learner.params)
        assert isinstance(binder, Binder)
        assert binder.name == learner.name


def test_states_survive_run_file(tmp_path):
    from sims.runfile import RunReader, RunWriter

    z_visual, z_audio, _ = _clustered_pairs(n_per_class=5)
    config = load_config("binding")
    path = tmp_path / "run.h5"
    binders = {}
    with RunWriter.create(path, config_text="", seed=0) as writer:
        for learner in config.learners:
            if learner.kind == "gradient":
                continue
            binder = make_binder(learner.kind, K, name=learner.name, seed=0, **learner.params)
            if hasattr(binder, "fit_unimodal"):
                binder.fit_unimodal(z_visual, z_audio)
            binder.partial_fit(z_visual, z_audio)
            writer.append_checkpoint(learner.name, binder.pairs_seen, {}, state=binder.state_dict())
            binders[learner.name] = (learner, binder)
    with RunReader(path) as reader:
        for name, (learner, binder) in binders.items():
            restored = make_binder(learner.kind, K, name=name, seed=1, **learner.params)
            restored.load_state_dict(reader.state(name)[1])
            np.testing.assert_allclose(restored.recall(z_audio, "audio"), binder.recall(z_audio, "audio"))


def test_linear_maps_match_recall():
    z_visual, z_audio, _ = _rotated_pairs(n_pairs=20)
    for binder in (HebbianBinder(K), NormalisedHebbianBinder(K), DeltaRuleBinder(K)):
        binder.partial_fit(z_visual, z_audio)
        for source, codes in (("visual", z_visual), ("audio", z_audio)):
            expected = binder.recall(codes, source)
            np.testing.assert_allclose(codes @ binder.linear_map(source).T, expected, atol=1e-12)
