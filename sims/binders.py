"""Binders: one interface for every way of associating the two modalities' codes.

The runner feeds every binder the same blocks of training pairs through
``partial_fit(z_visual, z_audio)`` and evaluates it through ``recall(z, source)``,
which maps codes of the ``source`` modality to codes of the other one. Codes are numpy
arrays of shape (n_samples, k), one row per item, and row i of ``z_visual`` and of
``z_audio`` form pair i. ``state_dict()`` returns the numeric arrays that a run-file
checkpoint stores, and ``load_state_dict`` restores them on resume.

Maps are written in column-vector form, as in the formulas: the audio code that a
visual code z_v calls up is M z_v. With codes as rows this is ``z_visual @ M.T``.
"""

from __future__ import annotations

import difflib
import inspect
import logging
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.linalg

from assoc.errors import ConfigError

logger = logging.getLogger(__name__)

MODALITIES = ("visual", "audio")


@runtime_checkable
class Binder(Protocol):
    """A learner that associates visual codes with audio codes."""

    name: str

    def partial_fit(self, z_visual: np.ndarray, z_audio: np.ndarray) -> None:
        """Learn from a block of pairs, each argument of shape (n_pairs, k)."""

    def recall(self, z: np.ndarray, source: str) -> np.ndarray:
        """Return the other modality's codes, shape (n_samples, k), for codes ``z`` of ``source``."""

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return the arrays that restore the binder, as a checkpoint stores them."""

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore the binder from :meth:`state_dict` output."""


# A linear binder (Hebbian, normalised Hebbian, delta rule) also has linear_map(source),
# the (k, k) matrix M with recall(z, source) = z @ M.T, which the overlap analysis
# compares with the relative rotation R_a R_vᵀ.
#
# A binder that also learns from unpaired codes (the linked SOMs train their maps this
# way) has a method fit_unimodal(z_visual, z_audio), which the runner calls once with
# each modality's training codes before the binding stage. The rows need not be paired.


# ---------------------------------------------------------------------------
# Hebbian outer product
# ---------------------------------------------------------------------------


class HebbianBinder:
    """Hebbian outer-product association between visual and audio codes.

    Parameters
    ----------
    k : int
        Code width of both modalities.
    eta : float, default 1.0
        Hebbian learning rate.
    name : str, default 'hebbian'

    Notes
    -----
    After pairs (z_v⁽ⁱ⁾, z_a⁽ⁱ⁾), i = 1 … n, the association matrix is

        M = η Σ_i z_a⁽ⁱ⁾ z_v⁽ⁱ⁾ᵀ   (k × k),

    and recall is M z_v for the audio code of a visual code, Mᵀ z_a for the visual code
    of an audio code. When the visual codes stored are orthonormal and η = 1, recalling
    a stored z_v⁽ʲ⁾ returns z_a⁽ʲ⁾ exactly, because M z_v⁽ʲ⁾ = Σ_i z_a⁽ⁱ⁾ (z_v⁽ⁱ⁾ · z_v⁽ʲ⁾).
    Otherwise stored pairs interfere through the overlaps of their keys, and the size
    of M grows with the pairs seen.
    """

    def __init__(self, k: int, *, eta: float = 1.0, name: str = "hebbian"):
        self.k = _check_width(k)
        self.eta = _check_positive("eta", eta)
        self.name = name
        self.association = np.zeros((self.k, self.k))
        self.pairs_seen = 0

    def partial_fit(self, z_visual: np.ndarray, z_audio: np.ndarray) -> None:
        """Add η Σ z_a z_vᵀ over a block of pairs to M."""
        z_visual, z_audio = _check_pairs(z_visual, z_audio, self.k)
        self.association += self.eta * (z_audio.T @ z_visual)
        self.pairs_seen += z_visual.shape[0]

    def recall(self, z: np.ndarray, source: str) -> np.ndarray:
        """Return M z for visual ``z``, Mᵀ z for audio ``z``; shape (n_samples, k)."""
        z = _check_codes(z, "z", self.k)
        if _check_source(source) == "visual":
            return z @ self.association.T
        return z @ self.association

    def linear_map(self, source: str = "visual") -> np.ndarray:
        """Return M for visual ``source``, Mᵀ for audio, shape (k, k), in column form."""
        return self.association.copy() if _check_source(source) == "visual" else self.association.T.copy()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return M and the pairs seen."""
        return {"association": self.association.copy(), "pairs_seen": np.int64(self.pairs_seen)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore M and the pairs seen."""
        _check_state_keys(state, ("association", "pairs_seen"), self.name)
        self.association = _check_state_array(state, "association", (self.k, self.k), self.name)
        self.pairs_seen = int(state["pairs_seen"])


# ---------------------------------------------------------------------------
# Normalised Hebbian association
# ---------------------------------------------------------------------------

NORMALISATIONS = ("pairs", "target_norm", "whitened")


class NormalisedHebbianBinder:
    """Hebbian association with a normalisation that keeps recall on the scale of the codes.

    Parameters
    ----------
    k : int
        Code width of both modalities.
    normalisation : {'whitened', 'pairs', 'target_norm'}, default 'whitened'
        How the Hebbian sums are normalised; see Notes.
    ridge : float, default 1e-3
        Relative ridge λ of the 'whitened' normalisation; 0 uses the pseudo-inverse.
    eta : float, default 1.0
        Hebbian learning rate of the sums; it cancels in 'whitened' and 'target_norm'.
    name : str, default 'hebbian_normalised'

    Notes
    -----
    The binder accumulates the Hebbian sums C_av = η Σ z_a z_vᵀ, C_vv = η Σ z_v z_vᵀ
    and C_aa = η Σ z_a z_aᵀ over the n pairs seen. Recall of the audio code of z_v is

    - 'pairs': (C_av / n) z_v, the Hebbian map averaged over pairs, so its size no
      longer grows with n;
    - 'target_norm': C_av z_v rescaled to the mean L2 norm of the audio codes seen
      (zero stays zero);
    - 'whitened': C_av (C_vv + λ_v I)⁻¹ z_v, with λ_v = λ · tr(C_vv) / k. This is the
      Hebbian map normalised by the keys' own correlation, the ridge least-squares
      map from z_v to z_a and the fixed point of the delta rule.

    The reverse direction swaps the roles: C_avᵀ, C_aa and the visual norms. 'pairs'
    and 'target_norm' only rescale recall, so cosine retrieval equals the plain
    Hebbian binder's and only reconstruction error differs. 'whitened' also removes
    interference between correlated keys: for linearly independent keys and λ = 0
    it recalls every stored pair exactly.
    """

    def __init__(
        self,
        k: int,
        *,
        normalisation: str = "whitened",
        ridge: float = 1e-3,
        eta: float = 1.0,
        name: str = "hebbian_normalised",
    ):
        self.k = _check_width(k)
        if normalisation not in NORMALISATIONS:
            raise ConfigError(
                f"Unknown normalisation {normalisation!r}{_suggest(normalisation, NORMALISATIONS)} "
                f"Choose one of {', '.join(map(repr, NORMALISATIONS))}."
            )
        if not np.isfinite(ridge) or ridge < 0.0:
            raise ConfigError(f"ridge must be a finite number >= 0; got {ridge!r}.")
        self.normalisation = normalisation
        self.ridge = float(ridge)
        self.eta = _check_positive("eta", eta)
        self.name = name
        self.cross = np.zeros((self.k, self.k))
        self.visual_correlation = np.zeros((self.k, self.k))
        self.audio_correlation = np.zeros((self.k, self.k))
        self.norm_sums = np.zeros(2)
        self.pairs_seen = 0
        self._maps: dict[str, np.ndarray] = {}

    def partial_fit(self, z_visual: np.ndarray, z_audio: np.ndarray) -> None:
        """Add a block of pairs to the Hebbian sums."""
        z_visual, z_audio = _check_pairs(z_visual, z_audio, self.k)
        self.cross += self.eta * (z_audio.T @ z_visual)
        self.visual_correlation += self.eta * (z_visual.T @ z_visual)
        self.audio_correlation += self.eta * (z_audio.T @ z_audio)
        self.norm_sums += [np.linalg.norm(z_visual, axis=1).sum(), np.linalg.norm(z_audio, axis=1).sum()]
        self.pairs_seen += z_visual.shape[0]
        self._maps.clear()

    def recall(self, z: np.ndarray, source: str) -> np.ndarray:
        """Return the other modality's codes for codes ``z`` of ``source``; shape (n_samples, k)."""
        z = _check_codes(z, "z", self.k)
        source = _check_source(source)
        if self.pairs_seen == 0:
            return np.zeros_like(z)
        recalled = z @ self._map(source).T
        if self.normalisation == "target_norm":
            target_norm = self.norm_sums[1 if source == "visual" else 0] / self.pairs_seen
            norms = np.linalg.norm(recalled, axis=1, keepdims=True)
            recalled = np.divide(recalled * target_norm, norms, out=np.zeros_like(recalled), where=norms > 0.0)
        return recalled

    def linear_map(self, source: str = "visual") -> np.ndarray:
        """Return the (k, k) matrix that carries ``source`` codes to the other modality (column form).

        With 'target_norm' recall also rescales each row, so the map gives its direction only.
        """
        return self._map(_check_source(source)).copy()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return the Hebbian sums and the pairs seen."""
        return {
            "cross": self.cross.copy(),
            "visual_correlation": self.visual_correlation.copy(),
            "audio_correlation": self.audio_correlation.copy(),
            "norm_sums": self.norm_sums.copy(),
            "pairs_seen": np.int64(self.pairs_seen),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore the Hebbian sums and the pairs seen."""
        names = ("cross", "visual_correlation", "audio_correlation", "norm_sums", "pairs_seen")
        _check_state_keys(state, names, self.name)
        for name in names[:3]:
            setattr(self, name, _check_state_array(state, name, (self.k, self.k), self.name))
        self.norm_sums = _check_state_array(state, "norm_sums", (2,), self.name)
        self.pairs_seen = int(state["pairs_seen"])
        self._maps.clear()

    def _map(self, source: str) -> np.ndarray:
        if source not in self._maps:
            self._maps[source] = self._compute_map(source)
        return self._maps[source]

    def _compute_map(self, source: str) -> np.ndarray:
        # Column form: target = map @ source_code.
        cross = self.cross if source == "visual" else self.cross.T
        if self.normalisation == "pairs":
            return cross / max(self.pairs_seen, 1)
        if self.normalisation == "target_norm":
            return cross
        correlation = self.visual_correlation if source == "visual" else self.audio_correlation
        if self.ridge == 0.0:
            return cross @ np.linalg.pinv(correlation, hermitian=True)
        shift = self.ridge * np.trace(correlation) / self.k
        if shift == 0.0:
            return np.zeros_like(cross)
        regularised = correlation + shift * np.eye(self.k)
        # cross @ inv(regularised), via a solve with the symmetric positive definite matrix.
        return scipy.linalg.solve(regularised, cross.T, assume_a="pos").T


# ---------------------------------------------------------------------------
# Rescorla-Wagner / delta rule
# ---------------------------------------------------------------------------


class DeltaRuleBinder:
    """Hetero-associative Rescorla-Wagner (delta) rule, streamed pair by pair.

    Parameters
    ----------
    k : int
        Code width of both modalities.
    alpha : float in (0, 1], default 1.0
        Salience of the input code (the cue).
    beta_plus : float, default 0.05
        Learning rate of the target code (the US).
    name : str, default 'delta'

    Notes
    -----
    Two maps learn from the same pairs, one per direction, each with the
    Rescorla-Wagner rule in its vector form (``assoc.conditioning.hetero_delta_update``):

        W_av ← W_av + αβ (z_a − W_av z_v) z_vᵀ,   W_va ← W_va + αβ (z_v − W_va z_a) z_aᵀ,

    one pair at a time in row order, so the result does not depend on the block size.
    Recall is W_av z_v for audio and W_va z_a for visual. For an orthonormal key
    presented n times, W_av z_v = (1 − (1 − αβ)ⁿ) z_a: the acquisition curve of the
    scalar rule. The rule is stable for αβ ‖z‖² < 2, so with unnormalised codes the
    rate must shrink as the codes grow.
    """

    def __init__(self, k: int, *, alpha: float = 1.0, beta_plus: float = 0.05, name: str = "delta"):
        self.k = _check_width(k)
        self.alpha = _check_positive("alpha", alpha)
        if self.alpha > 1.0:
            raise ConfigError(f"alpha must lie in (0, 1]; got {alpha!r}.")
        self.beta_plus = _check_positive("beta_plus", beta_plus)
        self.name = name
        self.visual_to_audio = np.zeros((self.k, self.k))
        self.audio_to_visual = np.zeros((self.k, self.k))
        self.pairs_seen = 0

    def partial_fit(self, z_visual: np.ndarray, z_audio: np.ndarray) -> None:
        """Apply the delta rule to each pair of the block, in row order, in both directions."""
        from assoc.conditioning import hetero_delta_update

        z_visual, z_audio = _check_pairs(z_visual, z_audio, self.k)
        rate = self.alpha * self.beta_plus
        hetero_delta_update(self.visual_to_audio, z_visual, z_audio, rate)
        hetero_delta_update(self.audio_to_visual, z_audio, z_visual, rate)
        self.pairs_seen += z_visual.shape[0]

    def recall(self, z: np.ndarray, source: str) -> np.ndarray:
        """Return W_av z for visual ``z``, W_va z for audio ``z``; shape (n_samples, k)."""
        z = _check_codes(z, "z", self.k)
        return z @ self._weights(source).T

    def linear_map(self, source: str = "visual") -> np.ndarray:
        """Return W_av for visual ``source``, W_va for audio, shape (k, k), in column form."""
        return self._weights(source).copy()

    def _weights(self, source: str) -> np.ndarray:
        return self.visual_to_audio if _check_source(source) == "visual" else self.audio_to_visual

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return both maps and the pairs seen."""
        return {
            "visual_to_audio": self.visual_to_audio.copy(),
            "audio_to_visual": self.audio_to_visual.copy(),
            "pairs_seen": np.int64(self.pairs_seen),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore both maps and the pairs seen."""
        _check_state_keys(state, ("visual_to_audio", "audio_to_visual", "pairs_seen"), self.name)
        for key in ("visual_to_audio", "audio_to_visual"):
            setattr(self, key, _check_state_array(state, key, (self.k, self.k), self.name))
        self.pairs_seen = int(state["pairs_seen"])


# ---------------------------------------------------------------------------
# Modern Hopfield hetero-association
# ---------------------------------------------------------------------------


class HopfieldBinder:
    """Modern Hopfield hetero-associative memory that stores the pairs themselves.

    Parameters
    ----------
    k : int
        Code width of both modalities.
    beta : float, default 8.0
        Inverse temperature of the softmax, >= 0.
    capacity : int, default 20000
        Pairs held at most. Once full, each new pair replaces the oldest one.
    name : str, default 'hopfield'

    Notes
    -----
    With the stored visual codes as keys K (n × k) and the audio codes as values
    V (n × k), the audio code recalled by a visual query q is

        Vᵀ softmax(β K q)

    (Ramsauer et al. 2020, one retrieval step, through
    ``assoc.hopfield.modern.hetero_retrieve``); the reverse direction swaps K and V.
    At β = 0 recall is the mean of the stored values; as β grows it approaches the value
    of the key with the largest dot product with q. Learning only writes pairs, so
    recall before any pair is zero.
    """

    def __init__(self, k: int, *, beta: float = 8.0, capacity: int = 20000, name: str = "hopfield"):
        self.k = _check_width(k)
        if isinstance(beta, bool) or not np.isfinite(beta) or beta < 0:
            raise ConfigError(f"beta must be a finite number >= 0 (the inverse temperature); got {beta!r}.")
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ConfigError(f"capacity must be a positive integer number of pairs; got {capacity!r}.")
        self.beta = float(beta)
        self.capacity = int(capacity)
        self.name = name
        self.visual = np.zeros((0, self.k))
        self.audio = np.zeros((0, self.k))
        self.pairs_seen = 0

    def partial_fit(self, z_visual: np.ndarray, z_audio: np.ndarray) -> None:
        """Store a block of pairs, dropping the oldest pairs beyond ``capacity``."""
        z_visual, z_audio = _check_pairs(z_visual, z_audio, self.k)
        self.visual = np.concatenate([self.visual, z_visual])[-self.capacity :]
        self.audio = np.concatenate([self.audio, z_audio])[-self.capacity :]
        self.pairs_seen += z_visual.shape[0]

    def recall(self, z: np.ndarray, source: str) -> np.ndarray:
        """Return Vᵀ softmax(β K z) for each row of ``z``; shape (n_samples, k)."""
        from assoc.hopfield.modern import hetero_retrieve

        z = _check_codes(z, "z", self.k)
        if self.visual.shape[0] == 0:
            return np.zeros_like(z)
        if _check_source(source) == "visual":
            keys, values = self.visual, self.audio
        else:
            keys, values = self.audio, self.visual
        return hetero_retrieve(z, keys, values, self.beta)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return the stored pairs, oldest first, and the pairs seen."""
        return {"visual": self.visual.copy(), "audio": self.audio.copy(), "pairs_seen": np.int64(self.pairs_seen)}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore the stored pairs and the pairs seen."""
        _check_state_keys(state, ("visual", "audio", "pairs_seen"), self.name)
        visual = np.array(state["visual"], dtype=np.float64)
        audio = np.array(state["audio"], dtype=np.float64)
        n_stored = visual.shape[0] if visual.ndim == 2 else -1
        if n_stored > self.capacity:
            raise ConfigError(
                f"State of binder {self.name!r} contains {n_stored} pairs, above capacity {self.capacity}; "
                "raise capacity to at least that."
            )
        self.visual = _check_state_array({"visual": visual}, "visual", (n_stored, self.k), self.name)
        self.audio = _check_state_array({"audio": audio}, "audio", (n_stored, self.k), self.name)
        self.pairs_seen = int(state["pairs_seen"])


# ---------------------------------------------------------------------------
# Hebbian-linked SOMs
# ---------------------------------------------------------------------------

LINK_RULES = {"coactivation": "neighborhood", "bmu": "bmu"}


class LinkedSOMBinder:
    """Two self-organizing maps, one per modality, linked by Hebbian co-activation.

    Parameters
    ----------
    k : int
        Code width of both modalities.
    rows, columns : int, default 10
        Grid size of each map.
    topology : {'hexagonal', 'rectangular'}, default 'hexagonal'
    som_epochs : int, default 5
        Online Kohonen steps per training code, over the schedule of :meth:`fit_unimodal`.
    eta : float, default 0.1
        Link learning rate.
    link_rule : {'coactivation', 'bmu'}, default 'coactivation'
        'coactivation': ΔH = η a_v a_aᵀ with graded activations a = exp(−d² / 2) of the
        grid distance d to the best-matching unit. 'bmu': only the two best-matching
        units are linked.
    recall_mode : {'weighted', 'argmax'}, default 'weighted'
        'weighted': the mean of the target map's prototypes weighted by the positive
        linked scores; 'argmax': the prototype of the most strongly linked unit.
    seed : int or None
        Seeds both maps' initialisation and sample order.
    name : str, default 'som'

    Notes
    -----
    The maps train on each modality's codes separately in :meth:`fit_unimodal`, which
    the runner calls before the binding stage, because the maps learn without pairs.
    :meth:`partial_fit` then learns only the link matrix H (n_units × n_units) from
    pairs, through ``assoc.som.LinkedSOMs``. Recall maps a code to its map's activation,
    carries it through H and returns a prototype of the other map, so a recalled code
    is always one of (or a mixture of) the other map's prototypes.
    """

    def __init__(
        self,
        k: int,
        *,
        rows: int = 10,
        columns: int = 10,
        topology: str = "hexagonal",
        som_epochs: int = 5,
        eta: float = 0.1,
        link_rule: str = "coactivation",
        recall_mode: str = "weighted",
        seed: int | None = None,
        name: str = "som",
    ):
        from assoc.som import SOM, LinkedSOMs

        self.k = _check_width(k)
        if link_rule not in LINK_RULES:
            raise ConfigError(
                f"Unknown link_rule {link_rule!r}{_suggest(link_rule, LINK_RULES)} "
                f"Choose one of {', '.join(map(repr, LINK_RULES))}."
            )
        if isinstance(som_epochs, bool) or not isinstance(som_epochs, (int, np.integer)) or som_epochs < 1:
            raise ConfigError(f"som_epochs must be a positive integer; got {som_epochs!r}.")
        if recall_mode not in ("weighted", "argmax"):
            raise ConfigError(f"Unknown recall_mode {recall_mode!r}; choose 'weighted' or 'argmax'.")
        self.som_epochs = int(som_epochs)
        self.recall_mode = recall_mode
        self.name = name
        rng = np.random.default_rng(seed)
        maps = [
            SOM(rows, columns, topology=topology, algorithm="online", dtype=np.float64, random_state=child)
            for child in rng.spawn(2)
        ]
        self.linked = LinkedSOMs(maps[0], maps[1], names=MODALITIES, eta=eta, activation=LINK_RULES[link_rule])

    @property
    def pairs_seen(self) -> int:
        """Pairs passed to :meth:`partial_fit` so far."""
        return self.linked.pairs_seen_

    def fit_unimodal(self, z_visual: np.ndarray, z_audio: np.ndarray) -> None:
        """Train each map on its own modality's codes; the rows need not be paired."""
        z_visual = _check_codes(z_visual, "z_visual", self.k)
        z_audio = _check_codes(z_audio, "z_audio", self.k)
        for som, codes in ((self.linked.som_a, z_visual), (self.linked.som_b, z_audio)):
            som.n_iter = self.som_epochs * codes.shape[0]
            som.fit(codes)

    def partial_fit(self, z_visual: np.ndarray, z_audio: np.ndarray) -> None:
        """Learn the links from a block of pairs."""
        z_visual, z_audio = _check_pairs(z_visual, z_audio, self.k)
        self._check_fitted()
        self.linked.partial_fit(z_visual, z_audio)

    def recall(self, z: np.ndarray, source: str) -> np.ndarray:
        """Return the other map's prototype (or prototype mixture) that ``z`` calls up; shape (n_samples, k)."""
        z = _check_codes(z, "z", self.k)
        source = _check_source(source)
        self._check_fitted()
        return np.asarray(self.linked.recall(z, source, mode=self.recall_mode), dtype=np.float64)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return the links, both maps' weights and the pairs seen."""
        self._check_fitted()
        return self.linked.state_dict()

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore the links and both maps."""
        self.linked.load_state_dict(state)

    def _check_fitted(self) -> None:
        if self.linked.som_a.weights_ is None or self.linked.som_b.weights_ is None:
            raise ConfigError(
                f"Binder {self.name!r} has untrained maps; call fit_unimodal(z_visual, z_audio) "
                "before partial_fit or recall."
            )


# ---------------------------------------------------------------------------
# Building binders from a config
# ---------------------------------------------------------------------------

BINDER_KINDS: dict[str, type] = {
    "hebbian": HebbianBinder,
    "hebbian_normalised": NormalisedHebbianBinder,
    "delta": DeltaRuleBinder,
    "hopfield": HopfieldBinder,
    "som": LinkedSOMBinder,
}


def make_binder(kind: str, k: int, *, name: str | None = None, seed: int | None = None, **params) -> Binder:
    """Build the binder of ``kind`` for codes of width ``k``.

    Parameters
    ----------
    kind : str
        One of :data:`BINDER_KINDS`'s keys.
    k : int
    name : str, optional
        Learner name; defaults to ``kind``.
    seed : int, optional
        Passed to binders that draw random numbers (the linked SOMs); the others are
        deterministic and ignore it.
    **params
        The kind's parameters, for example ``LearnerConfig.params``.
    """
    if kind not in BINDER_KINDS:
        raise ConfigError(
            f"Unknown binder kind {kind!r}{_suggest(kind, BINDER_KINDS)} "
            f"Choose one of {', '.join(map(repr, BINDER_KINDS))}."
        )
    cls = BINDER_KINDS[kind]
    if "seed" in inspect.signature(cls).parameters:
        params["seed"] = seed
    return cls(k, name=name or kind, **params)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def _suggest(value, choices) -> str:
    matches = difflib.get_close_matches(str(value), list(choices), n=1)
    return f"; did you mean {matches[0]!r}?" if matches else "."


def _check_width(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be a positive integer code width; got {k!r}.")
    return int(k)


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not np.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a finite number > 0; got {value!r}.")
    return float(value)


def _check_source(source: str) -> str:
    if source not in MODALITIES:
        raise ConfigError(
            f"Unknown source modality {source!r}{_suggest(source, MODALITIES)} Choose 'visual' or 'audio'."
        )
    return source


def _check_codes(z, name: str, k: int) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] != k:
        raise ConfigError(f"{name} must have shape (n_samples, {k}); got {z.shape}.")
    if not np.all(np.isfinite(z)):
        raise ConfigError(f"{name} contains NaN or infinite values; check the codes passed in.")
    return z


def _check_pairs(z_visual, z_audio, k: int) -> tuple[np.ndarray, np.ndarray]:
    z_visual = _check_codes(z_visual, "z_visual", k)
    z_audio = _check_codes(z_audio, "z_audio", k)
    if z_visual.shape[0] != z_audio.shape[0]:
        raise ConfigError(
            f"z_visual has {z_visual.shape[0]} rows but z_audio has {z_audio.shape[0]}; pass one row per pair in each."
        )
    return z_visual, z_audio


def _check_state_keys(state, names, binder_name: str) -> None:
    missing = [name for name in names if name not in state]
    if missing:
        raise ConfigError(
            f"State for binder {binder_name!r} lacks {', '.join(missing)}; pass the output of state_dict()."
        )


def _check_state_array(state, name: str, shape: tuple, binder_name: str) -> np.ndarray:
    array = np.array(state[name], dtype=np.float64)
    if array.shape != shape:
        raise ConfigError(
            f"State array {name!r} of binder {binder_name!r} has shape {array.shape}; expected {shape}. "
            "Was it saved with another code width k?"
        )
    return array
