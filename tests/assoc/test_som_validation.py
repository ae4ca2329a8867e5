"""Invalid parameters and input are rejected with messages that name the value and the fix."""

import numpy as np
import pytest

from assoc.errors import ConfigError
from assoc.som import SOM, LinkedSOMs


def fitted_map(n_features=2):
    return SOM(2, 2).set_weights(np.zeros((4, n_features)))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"neighborhood": "cone"}, "'neighborhood' parameter must be one of 'gaussian', 'bubble'"),
        ({"distance": 2}, "'distance' parameter must be one of 'euclidean'"),
        ({"sigma": 0.0}, "'sigma' parameter must be a positive number; got 0.0"),
        ({"eta": -1.0}, "'eta' parameter must be a positive number; got -1.0"),
        ({"eta_final": 0.0, "eta_decay": "exponential"}, "'eta_final' parameter must be > 0 for eta_decay='exponential'"),
        ({"sigma_final": -1.0}, "'sigma_final' parameter must be a finite number >= 0"),
        ({"n_iter": 0}, "'n_iter' parameter must be a positive integer or None; got 0"),
        ({"n_iter": 2.5}, "'n_iter' parameter must be a positive integer"),
        ({"n_jobs": 0}, r"'n_jobs' parameter must be a positive integer or -1 \(one thread per CPU\); got 0"),
        ({"n_jobs": True}, "'n_jobs' parameter must be a positive integer or -1"),
        ({"random_state": -1}, "'random_state' parameter must be None, an integer >= 0 or a numpy.random.Generator; got -1"),
        ({"random_state": "0"}, "'random_state' parameter must be None, an integer >= 0 .*got '0'"),
        ({"dtype": np.int32}, "'dtype' parameter must be float32 or float64; got int32"),
        ({"algorithm": "batch", "neighborhood": "mexican_hat"}, "use algorithm='online' or another neighborhood"),
        ({"init": "zeros"}, "'init' parameter must be one of 'random', 'sample', 'pca'"),
    ],
)
def test_som_rejects_bad_parameters(options, message):
    with pytest.raises(ConfigError, match=message):
        SOM(2, 2, **options)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros(3), r"X must be 2-d \(n_samples, n_features\); got shape \(3,\)"),
        (np.zeros((0, 2)), "at least one sample and one feature"),
        (np.array([[1.0, np.nan]]), "X contains NaN or infinite values"),
        (np.array([["a", "b"]]), "X must contain real numbers; got dtype <U1"),
        (np.zeros((4, 3)), "X has 3 features, but the map was fitted with 2"),
    ],
)
def test_som_rejects_bad_data(data, message):
    with pytest.raises(ConfigError, match=message):
        fitted_map().quantization_error(data)


def test_unfitted_map_rejected():
    with pytest.raises(ConfigError, match="no weights yet; call fit or partial_fit first"):
        SOM(2, 2).bmu(np.zeros((1, 2)))


def test_partial_fit_needs_n_iter():
    with pytest.raises(ConfigError, match="partial_fit needs the schedule length: set n_iter"):
        SOM(2, 2).partial_fit(np.zeros((3, 2)))


def test_set_weights_checks_shape():
    with pytest.raises(ConfigError, match=r"weights must have shape \(4, n_features\), one row per unit; got \(3, 2\)"):
        SOM(2, 2).set_weights(np.zeros((3, 2)))


def test_label_map_checks_labels():
    with pytest.raises(ConfigError, match=r"y has shape \(2,\); expected \(3,\)"):
        fitted_map().label_map(np.zeros((3, 2)), [0, 1])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"activation": "softmax"}, "activation='softmax' needs a positive 'temperature'"),
        ({"normalization": "oja", "eta": 2.0}, "'eta' parameter must be at most 1 with normalization='oja'"),
        ({"decay": 1.0}, r"'decay' parameter must be in \[0, 1\); got 1.0"),
        ({"link_sigma": -1.0}, "'link_sigma' parameter must be a positive number"),
        ({"names": ("a", "a")}, "'names' parameter must be two different strings"),
        ({"activation": "winner"}, "'activation' parameter must be one of 'bmu', 'neighborhood', 'softmax'"),
    ],
)
def test_linked_rejects_bad_parameters(options, message):
    with pytest.raises(ConfigError, match=message):
        LinkedSOMs(fitted_map(), fitted_map(), **options)


def test_linked_rejects_bad_input():
    linked = LinkedSOMs(fitted_map(), fitted_map(3), names=("visual", "audio"))
    with pytest.raises(ConfigError, match="x_a has 2 rows but x_b has 3; row i of each must form pair i"):
        linked.partial_fit(np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ConfigError, match="Unknown source 'image'; choose 'visual' or 'audio'"):
        linked.recall(np.zeros((1, 2)), "image")
    with pytest.raises(ConfigError, match="'mode' parameter must be one of 'argmax', 'weighted'"):
        linked.recall(np.zeros((1, 2)), "visual", mode="mean")
    with pytest.raises(ConfigError, match=r"The 'audio' map has no unit labels; call label_units\(x, y, 'audio'\)"):
        linked.predict(np.zeros((1, 2)), "visual")
    with pytest.raises(ConfigError, match="Labels must be integers >= 0"):
        linked.label_units(np.zeros((2, 2)), [0.5, 1.5], "visual")
    with pytest.raises(ConfigError, match="gallery must have shape"):
        linked.nearest_items(np.zeros((1, 2)), "visual", np.zeros((5, 2)))


def test_linked_needs_fitted_maps():
    linked = LinkedSOMs(SOM(2, 2), SOM(2, 2))
    with pytest.raises(ConfigError, match="The 'a' map has no weights; call fit_maps"):
        linked.partial_fit(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="must be an assoc.som.SOM; got str"):
        LinkedSOMs("map", SOM(2, 2))


def test_nonfinite_message_names_entry_and_overflow():
    som = SOM(2, 2, dtype=np.float32)
    X = np.ones((3, 2))
    X[2, 1] = np.inf
    with pytest.raises(ConfigError, match=r"X contains NaN or infinite values \(1 entry, the first at index \(2, 1\)"):
        som.fit(X)
    X[2, 1] = 1e39  # finite in float64, infinite in float32
    with pytest.raises(ConfigError, match=r"converted from the finite 1e\+39, which exceeds the float32 limit.*dtype=np.float64"):
        som.fit(X)
