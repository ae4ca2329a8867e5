"""Two self-organizing maps linked by a Hebbian matrix, for cross-modal retrieval.

Each map is trained without labels on its own modality. The link matrix H, of shape
(n_units_a, n_units_b), learns from paired samples (x_a, x_b) which units are active
together. A query in one modality activates its map, and H carries that activation to
the other map, which returns a prototype, a label or stored items.
"""

from __future__ import annotations

import enum
import logging

import numpy as np
from numba import njit

from assoc._config import NJIT_SERIAL
from assoc.errors import ConfigError
from assoc.progress import ProgressCallback
from assoc.som import _kernels
from assoc.som.grid import parse_option
from assoc.som.som import SOM

logger = logging.getLogger(__name__)

# Rows of queries scored at once in nearest_items: a block of (rows x n_gallery) distances
# holds about 2**22 values.
CHUNK_VALUES = 1 << 22


class Activation(str, enum.Enum):
    """Activation of a map's units by a sample, used by the link update and by recall."""

    BMU = "bmu"
    NEIGHBORHOOD = "neighborhood"
    SOFTMAX = "softmax"


class Normalization(str, enum.Enum):
    """Bound on the growth of the link weights."""

    NONE = "none"
    OJA = "oja"


class RecallMode(str, enum.Enum):
    """Rule that turns the linked scores of the target map into one recalled unit or a weighted mean."""

    ARGMAX = "argmax"
    WEIGHTED = "weighted"


@njit(**NJIT_SERIAL)
def _oja_pairs(links, activations_a, activations_b, eta, retention):
    """Apply the Oja-style link rule pair by pair, in order, to ``links`` in place.

    For each pair: H <- retention * H, then for every target unit k with y = a_b[k] != 0,
    H[:, k] <- (1 - eta y^2) H[:, k] + eta y a_a. Columns with y = 0 are left alone.
    """
    n_units_a, n_units_b = links.shape
    for i in range(activations_a.shape[0]):
        if retention != 1.0:
            for j in range(n_units_a):
                for k in range(n_units_b):
                    links[j, k] *= retention
        for k in range(n_units_b):
            y = activations_b[i, k]
            if y == 0.0:
                continue
            shrink = 1.0 - eta * y * y
            gain = eta * y
            for j in range(n_units_a):
                links[j, k] = shrink * links[j, k] + gain * activations_a[i, j]


class LinkedSOMs:
    """Two SOMs, one per modality, and the Hebbian link matrix between their units.

    Parameters
    ----------
    som_a, som_b : SOM
        The maps of the two modalities. They may be fitted already, fitted through
        :meth:`fit_maps`, or trained along with the links (``update_maps=True``).
    names : tuple of two str
        Names of the two sides, used as the ``source`` argument of the retrieval methods
        (for example ``("visual", "audio")``).
    eta : float
        Link learning rate.
    activation : {'neighborhood', 'bmu', 'softmax'}
        ``bmu``: 1 at the best-matching unit, 0 elsewhere (the BMU-only rule).
        ``neighborhood``: exp(-d^2 / (2 link_sigma^2)) of the grid distance d to the
        best-matching unit, 1 at that unit. ``softmax``: exp(-(D_j - min D) / temperature)
        over the distances D_j to every unit, normalised to sum 1.
    link_sigma : float
        Grid radius of the ``neighborhood`` activation.
    temperature : float, optional
        Softmax temperature, in the maps' distance units; required for ``softmax``.
    decay : float
        Forgetting rate per pair: before each pair's update H <- (1 - decay) H.
    normalization : {'none', 'oja'}
        ``none``: dH = eta a_a a_b^T. ``oja``: dH[:, k] = eta a_b[k] (a_a - a_b[k] H[:, k]),
        which keeps each column bounded (formulas and effect in docs/som.md).
    update_maps : bool
        When true, :meth:`partial_fit` also applies online Kohonen steps to both maps
        (each SOM then needs ``n_iter``).

    Attributes
    ----------
    links_ : ndarray of shape (n_units_a, n_units_b), float64
        The link matrix H.
    pairs_seen_ : int
        Pairs passed to :meth:`partial_fit` so far.
    unit_labels_ : dict of str to ndarray of shape (n_units,)
        Majority label of each unit, per side, after :meth:`label_units`; -1 marks units
        that won no labelled sample.
    """

    def __init__(
        self,
        som_a: SOM,
        som_b: SOM,
        *,
        names: tuple[str, str] = ("a", "b"),
        eta: float = 0.1,
        activation="neighborhood",
        link_sigma: float = 1.0,
        temperature: float | None = None,
        decay: float = 0.0,
        normalization="none",
        update_maps: bool = False,
    ):
        for name, som in (("som_a", som_a), ("som_b", som_b)):
            if not isinstance(som, SOM):
                raise ConfigError(f"The '{name}' parameter must be an assoc.som.SOM; got {type(som).__name__}.")
        names = tuple(names)
        if len(names) != 2 or not all(isinstance(name, str) for name in names) or names[0] == names[1]:
            raise ConfigError(f"The 'names' parameter must be two different strings; got {names!r}.")
        self.som_a = som_a
        self.som_b = som_b
        self.names = names
        self.eta = float(eta)
        self.activation = parse_option(Activation, activation, "activation")
        self.link_sigma = float(link_sigma)
        self.temperature = None if temperature is None else float(temperature)
        self.decay = float(decay)
        self.normalization = parse_option(Normalization, normalization, "normalization")
        self.update_maps = bool(update_maps)
        self._validate_parameters()

        self.links_ = np.zeros((som_a.n_units, som_b.n_units))
        self.pairs_seen_ = 0
        self.unit_labels_: dict[str, np.ndarray] = {}
        self._cache: dict = {}

    def _validate_parameters(self) -> None:
        if not np.isfinite(self.eta) or self.eta <= 0:
            raise ConfigError(f"The 'eta' parameter must be a positive number; got {self.eta!r}.")
        if self.normalization is Normalization.OJA and self.eta > 1:
            raise ConfigError(
                f"The 'eta' parameter must be at most 1 with normalization='oja', so that the factor "
                f"1 - eta * a^2 stays >= 0 for activations up to 1; got {self.eta!r}."
            )
        if not np.isfinite(self.link_sigma) or self.link_sigma <= 0:
            raise ConfigError(f"The 'link_sigma' parameter must be a positive number; got {self.link_sigma!r}.")
        if self.activation is Activation.SOFTMAX:
            if self.temperature is None or not np.isfinite(self.temperature) or self.temperature <= 0:
                raise ConfigError(
                    "activation='softmax' needs a positive 'temperature' in the maps' distance units "
                    f"(for example a tenth of the quantization error); got {self.temperature!r}."
                )
        if not (0.0 <= self.decay < 1.0):
            raise ConfigError(f"The 'decay' parameter must be in [0, 1); got {self.decay!r}.")

    # ------------------------------------------------------------------ sides

    def _side(self, source: str) -> int:
        if source == self.names[0]:
            return 0
        if source == self.names[1]:
            return 1
        raise ConfigError(f"Unknown source {source!r}; choose {self.names[0]!r} or {self.names[1]!r}.")

    def _som(self, side: int) -> SOM:
        return self.som_a if side == 0 else self.som_b

    def _check_maps_fitted(self) -> None:
        for name, som in zip(self.names, (self.som_a, self.som_b)):
            if som.weights_ is None:
                raise ConfigError(
                    f"The {name!r} map has no weights; call fit_maps (or SOM.fit) first, "
                    "or create LinkedSOMs with update_maps=True."
                )

    def _grid_activation_matrix(self, side: int) -> np.ndarray:
        """Activation of every unit (columns) when each unit (rows) is the best match."""
        key = ("grid", side)
        if key not in self._cache:
            som = self._som(side)
            if self.activation is Activation.BMU:
                matrix = np.eye(som.n_units)
            else:
                matrix = _kernels.neighborhood_matrix(
                    som.positions, 0, som.n_units, self.link_sigma, _kernels.NEIGHBORHOOD_GAUSSIAN
                )
            self._cache[key] = matrix
        return self._cache[key]

    # ------------------------------------------------------------------ training

    def fit_maps(self, x_a, x_b, progress: ProgressCallback | None = None) -> LinkedSOMs:
        """Fit each map on its own modality's samples (no pairing, no labels); return self.

        ``progress(done, total)`` counts the training steps (or batch passes) of both maps.
        """
        n_iter_a = self.som_a._fit_n_iter(np.shape(x_a)[0])
        n_iter_b = self.som_b._fit_n_iter(np.shape(x_b)[0])
        total = n_iter_a + n_iter_b
        forward_a = forward_b = None
        if progress is not None:

            def forward_a(done, _):
                progress(done, total)

            def forward_b(done, _):
                progress(n_iter_a + done, total)

        self.som_a.fit(x_a, progress=forward_a)
        self.som_b.fit(x_b, progress=forward_b)
        return self

    def activation_of(self, x, source: str) -> np.ndarray:
        """Return the activation of the ``source`` map's units by each sample, shape (n_samples, n_units)."""
        side = self._side(source)
        self._check_maps_fitted()
        return self._activation(x, side)

    def _activation(self, x, side: int) -> np.ndarray:
        som = self._som(side)
        if self.activation is Activation.SOFTMAX:
            distances = som.transform(x)
            logits = -(distances - distances.min(axis=1, keepdims=True)) / self.temperature
            weights = np.exp(logits)
            return weights / weights.sum(axis=1, keepdims=True)
        return self._grid_activation_matrix(side)[som.bmu(x)]

    def partial_fit(self, x_a, x_b) -> LinkedSOMs:
        """Update the links from a block of pairs ``(x_a[i], x_b[i])``; return self.

        Parameters
        ----------
        x_a : array-like of shape (n_pairs, n_features_a)
        x_b : array-like of shape (n_pairs, n_features_b)

        Pairs are applied in row order. Unless ``update_maps`` is set, the result does not
        depend on how a sequence of pairs is split into blocks (up to rounding).
        """
        x_a = np.asarray(x_a)
        x_b = np.asarray(x_b)
        if x_a.ndim != 2 or x_b.ndim != 2:
            raise ConfigError(f"x_a and x_b must be 2-d (n_pairs, n_features); got shapes {x_a.shape} and {x_b.shape}.")
        if x_a.shape[0] != x_b.shape[0]:
            raise ConfigError(
                f"x_a has {x_a.shape[0]} rows but x_b has {x_b.shape[0]}; row i of each must form pair i."
            )
        n_pairs = x_a.shape[0]
        if n_pairs == 0:
            return self
        if self.update_maps:
            self.som_a.partial_fit(x_a)
            self.som_b.partial_fit(x_b)
        self._check_maps_fitted()

        if self.normalization is Normalization.OJA:
            activations_a = np.ascontiguousarray(self._activation(x_a, 0))
            activations_b = np.ascontiguousarray(self._activation(x_b, 1))
            _oja_pairs(self.links_, activations_a, activations_b, self.eta, 1.0 - self.decay)
        else:
            # H <- (1 - decay)^n H + eta sum_i (1 - decay)^(n - 1 - i) a_a,i a_b,i^T.
            pair_weights = (1.0 - self.decay) ** np.arange(n_pairs - 1, -1, -1, dtype=np.float64)
            if self.activation is Activation.SOFTMAX:
                hebbian = self._activation(x_a, 0).T @ (pair_weights[:, None] * self._activation(x_b, 1))
            else:
                # Activations are rows of the grid matrices G, so the sum is G_a^T C G_b with
                # C[u, v] the weighted count of pairs whose best-matching units are u and v.
                counts = np.zeros(self.links_.shape)
                np.add.at(counts, (self.som_a.bmu(x_a), self.som_b.bmu(x_b)), pair_weights)
                grid_a = self._grid_activation_matrix(0)
                grid_b = self._grid_activation_matrix(1)
                hebbian = grid_a.T @ counts @ grid_b
            self.links_ *= (1.0 - self.decay) ** n_pairs
            self.links_ += self.eta * hebbian

        self.pairs_seen_ += n_pairs
        self._cache = {key: value for key, value in self._cache.items() if key[0] == "grid"}
        return self

    # ------------------------------------------------------------------ retrieval

    def link_scores(self, x, source: str) -> np.ndarray:
        """Return the linked activation of the other map's units, shape (n_samples, n_units_target).

        For source a this is a_a H, for source b it is a_b H^T.
        """
        side = self._side(source)
        self._check_maps_fitted()
        activations = self._activation(x, side)
        return activations @ (self.links_ if side == 0 else self.links_.T)

    def _unit_scores(self, side: int) -> np.ndarray:
        """Linked scores of the target units for each best-matching source unit (grid activations)."""
        key = ("scores", side, self._maps_version())
        if key not in self._cache:
            links = self.links_ if side == 0 else self.links_.T
            self._cache[key] = self._grid_activation_matrix(side) @ links
        return self._cache[key]

    def _maps_version(self) -> tuple:
        return (self.som_a.weights_version, self.som_b.weights_version)

    def _target_scores(self, x, side: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the target scores, per row or per best-matching unit with the row's unit index."""
        if self.activation is Activation.SOFTMAX:
            return self.link_scores(x, self.names[side]), None
        return self._unit_scores(side), self._som(side).bmu(x)

    def recall_units(self, x, source: str) -> np.ndarray:
        """Return, for each sample, the most strongly linked unit of the other map, shape (n_samples,)."""
        side = self._side(source)
        self._check_maps_fitted()
        scores, rows = self._target_scores(x, side)
        best = np.argmax(scores, axis=1)
        return best if rows is None else best[rows]

    def recall(self, x, source: str, mode="argmax") -> np.ndarray:
        """Return the other modality's code that each sample calls up, shape (n_samples, n_features_target).

        ``argmax`` returns the prototype of the most strongly linked target unit.
        ``weighted`` returns the mean of the target prototypes weighted by the positive
        linked scores, or the argmax prototype when no score is positive. With the
        ``bmu`` and ``neighborhood`` activations the recalled code of every source unit
        is cached, so a recall costs one best-matching-unit search.
        """
        side = self._side(source)
        mode = parse_option(RecallMode, mode, "mode")
        self._check_maps_fitted()
        target = self._som(1 - side)
        if mode is RecallMode.ARGMAX:
            return target.weights_[self.recall_units(x, source)]

        if self.activation is Activation.SOFTMAX:
            return _weighted_prototypes(self.link_scores(x, source), target.weights_).astype(target.dtype)
        key = ("weighted", side, self._maps_version())
        if key not in self._cache:
            self._cache[key] = _weighted_prototypes(self._unit_scores(side), target.weights_).astype(target.dtype)
        return self._cache[key][self._som(side).bmu(x)]

    def label_units(self, x, y, source: str) -> np.ndarray:
        """Label the units of the ``source`` map by majority vote of labelled samples.

        Stores and returns ``unit_labels_[source]``, shape (n_units,); -1 marks units that
        win no sample. Labels must be integers >= 0.
        """
        side = self._side(source)
        self._check_maps_fitted()
        y = np.asarray(y)
        if y.dtype.kind not in "iu" or (y.size and y.min() < 0):
            raise ConfigError(f"Labels must be integers >= 0 (got dtype {y.dtype}); -1 marks unlabelled units.")
        labels = self._som(side).unit_labels(x, y, unlabeled=-1)
        self.unit_labels_[source] = labels
        return labels

    def predict(self, x, source: str, mode="argmax") -> np.ndarray:
        """Return the label that each sample calls up in the other map, shape (n_samples,).

        ``argmax``: the label of the most strongly linked labelled target unit.
        ``weighted``: the label with the largest sum of positive linked scores over the
        target units that carry it. Needs :meth:`label_units` on the other side first.
        """
        side = self._side(source)
        mode = parse_option(RecallMode, mode, "mode")
        target_name = self.names[1 - side]
        if target_name not in self.unit_labels_:
            raise ConfigError(f"The {target_name!r} map has no unit labels; call label_units(x, y, {target_name!r}).")
        unit_labels = self.unit_labels_[target_name]
        labelled = unit_labels >= 0
        if not labelled.any():
            raise ConfigError(f"No unit of the {target_name!r} map carries a label; label it with more samples.")
        self._check_maps_fitted()

        scores, rows = self._target_scores(x, side)
        if mode is RecallMode.ARGMAX:
            masked = np.where(labelled[None, :], scores, -np.inf)
            answers = unit_labels[np.argmax(masked, axis=1)]
        else:
            n_classes = int(unit_labels.max()) + 1
            one_hot = np.zeros((unit_labels.shape[0], n_classes))
            one_hot[labelled, unit_labels[labelled]] = 1.0
            answers = np.argmax(np.maximum(scores, 0.0) @ one_hot, axis=1)
        return answers if rows is None else answers[rows]

    def score(self, x, y, source: str, mode="argmax") -> float:
        """Return the fraction of samples whose recalled label equals ``y``."""
        predicted = self.predict(x, source, mode)
        y = np.asarray(y)
        if y.shape != predicted.shape:
            raise ConfigError(f"y has shape {y.shape}; expected {predicted.shape}, one label per sample.")
        return float(np.mean(predicted == y))

    def nearest_items(self, x, source: str, gallery, n_neighbors: int = 1, mode="argmax") -> np.ndarray:
        """Return the indices of the stored target-modality items nearest to each recalled code.

        Parameters
        ----------
        x : array-like of shape (n_samples, n_features_source)
        source : str
        gallery : array-like of shape (n_items, n_features_target)
            Stored items of the other modality.
        n_neighbors : int
        mode : {'argmax', 'weighted'}
            Recall mode of the code that is matched against the gallery.

        Returns
        -------
        ndarray of shape (n_samples, n_neighbors), int64
            Gallery rows by increasing Euclidean distance.
        """
        recalled = self.recall(x, source, mode).astype(np.float64)
        gallery = np.asarray(gallery, dtype=np.float64)
        if gallery.ndim != 2 or gallery.shape[1] != recalled.shape[1]:
            raise ConfigError(
                f"gallery must have shape (n_items, {recalled.shape[1]}) to match the recalled codes; "
                f"got {gallery.shape}."
            )
        if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, (int, np.integer)) or not (
            1 <= n_neighbors <= gallery.shape[0]
        ):
            raise ConfigError(f"n_neighbors must be an integer in [1, {gallery.shape[0]}]; got {n_neighbors!r}.")
        gallery_sq = np.sum(gallery**2, axis=1)
        result = np.empty((recalled.shape[0], n_neighbors), dtype=np.int64)
        block = max(1, CHUNK_VALUES // gallery.shape[0])
        for start in range(0, recalled.shape[0], block):
            queries = recalled[start : start + block]
            squared = gallery_sq[None, :] - 2.0 * queries @ gallery.T
            nearest = np.argpartition(squared, n_neighbors - 1, axis=1)[:, :n_neighbors]
            order = np.argsort(np.take_along_axis(squared, nearest, axis=1), axis=1, kind="stable")
            result[start : start + block] = np.take_along_axis(nearest, order, axis=1)
        return result

    # ------------------------------------------------------------------ statistics and state

    def link_statistics(self) -> dict[str, float]:
        """Return summary numbers of the link matrix, for learning curves against pairs seen.

        Keys:

        - ``pairs_seen``;
        - ``total`` and ``max``: sum and maximum of H;
        - ``row_entropy``: mean entropy in nats of the linked rows of max(H, 0), each
          normalised to sum 1. It is 0 when every unit links to a single unit;
        - ``linked_fraction_a``, ``linked_fraction_b``: fraction of units with a positive link;
        - ``mutual_best_fraction``: fraction of linked units u of map a whose strongest
          link v has u as its own strongest link.
        """
        positive = np.maximum(self.links_, 0.0)
        row_sums = positive.sum(axis=1)
        linked_rows = row_sums > 0
        column_linked = positive.sum(axis=0) > 0
        if linked_rows.any():
            probabilities = positive[linked_rows] / row_sums[linked_rows, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(probabilities > 0, probabilities * np.log(probabilities), 0.0)
            row_entropy = float(-terms.sum(axis=1).mean())
            best_b = np.argmax(self.links_, axis=1)
            best_a = np.argmax(self.links_, axis=0)
            units = np.flatnonzero(linked_rows)
            mutual = float(np.mean(best_a[best_b[units]] == units))
        else:
            row_entropy = float("nan")
            mutual = 0.0
        return {
            "pairs_seen": float(self.pairs_seen_),
            "total": float(self.links_.sum()),
            "max": float(self.links_.max()),
            "row_entropy": row_entropy,
            "linked_fraction_a": float(linked_rows.mean()),
            "linked_fraction_b": float(column_linked.mean()),
            "mutual_best_fraction": mutual,
        }

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return the arrays a checkpoint needs: the links, pairs seen and both maps' weights."""
        self._check_maps_fitted()
        return {
            "links": self.links_.copy(),
            "pairs_seen": np.array(self.pairs_seen_, dtype=np.int64),
            "weights_a": self.som_a.weights_.copy(),
            "weights_b": self.som_b.weights_.copy(),
            "n_steps_a": np.array(self.som_a.n_steps_, dtype=np.int64),
            "n_steps_b": np.array(self.som_b.n_steps_, dtype=np.int64),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore the links and both maps from :meth:`state_dict` output."""
        links = np.asarray(state["links"], dtype=np.float64)
        if links.shape != self.links_.shape:
            raise ConfigError(f"state['links'] has shape {links.shape}; this pair of maps needs {self.links_.shape}.")
        for key, som in (("weights_a", self.som_a), ("weights_b", self.som_b)):
            weights = np.asarray(state[key])
            if weights.ndim != 2 or weights.shape[0] != som.n_units:
                raise ConfigError(f"state[{key!r}] has shape {weights.shape}; expected ({som.n_units}, n_features).")
            som.set_weights(weights)
        self.som_a.n_steps_ = int(state.get("n_steps_a", 0))
        self.som_b.n_steps_ = int(state.get("n_steps_b", 0))
        self.links_ = links.copy()
        self.pairs_seen_ = int(state["pairs_seen"])
        self._cache.clear()


def _weighted_prototypes(scores: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """Mean of ``prototypes`` weighted by the positive part of each row of ``scores``.

    Rows without a positive score fall back to the prototype of their largest score.
    """
    positive = np.maximum(scores, 0.0)
    totals = positive.sum(axis=1)
    result = (positive @ prototypes.astype(np.float64)) / np.where(totals > 0, totals, 1.0)[:, None]
    empty = totals <= 0
    if empty.any():
        result[empty] = prototypes[np.argmax(scores[empty], axis=1)]
    return result
