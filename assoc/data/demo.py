"""The embedded demo set: scikit-learn's handwritten digits paired with SYNTHETIC speech.

The images are the 1,797 8x8 digits bundled with scikit-learn, resized to 20x20 and
centred in a 28x28 frame as in MNIST. The audio is not recorded speech. Each
spectrogram is drawn directly on the grid of the AV-MNIST spectrograms: 112 rows from
0 to 4 kHz in 36 Hz steps, 112 columns over the word's duration, scaled to [0, 1] by
the same dB rule. What is drawn is a rough phonetic sketch of the English digit word:
formant trajectories for vowels and nasals, noise bands for fricatives, and silence
plus a broadband burst for stops. Every sample draws its own
speaker-like variation (pitch, formant scale, segment timing, noise floor, formant
jitter), so the classes overlap as in real speech. No download is needed, and the
whole set builds in about a second.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

from assoc.data.audio import FREQUENCIES_HZ, N_FRAMES, power_to_unit
from assoc.data.contract import AUDIO_SHAPE, SPLIT_NAMES, Split

NAME = "demo"
DESCRIPTION = "scikit-learn 8x8 digits (resized to 28x28) paired with SYNTHETIC spoken-digit spectrograms"

# Contiguous blocks of scikit-learn's digits, in its order: train, validation, test.
N_VAL = 180
N_TEST = 360

# Formants F1, F2, F3 (Hz) of an adult speaker, approximate textbook values.
_PHONES = {
    "iy": (270, 2290, 3010),
    "ih": (390, 1990, 2550),
    "eh": (530, 1840, 2480),
    "ah": (520, 1190, 2390),
    "aa": (730, 1090, 2440),
    "ao": (570, 840, 2410),
    "ow": (500, 900, 2300),
    "uw": (300, 870, 2240),
    "er": (490, 1350, 1690),
    "w": (300, 610, 2200),
    "n": (250, 1400, 2500),
    "t": (400, 1700, 2600),
}

# Segment kinds. A voiced segment moves its formants from a start phone to an end
# phone. A fricative is a noise band (low, high Hz). A gap is a stop closure, and a
# burst is the broadband release of a stop.
_VOICED, _FRICATIVE, _GAP, _BURST = range(4)

_S_BAND = (2800, 4000)
_F_BAND = (900, 4000)
_ASPIRATION_BAND = (1500, 4000)

# Per digit: (kind, relative duration, relative power, start, end) for each segment.
_WORDS = {
    0: [  # "zero"
        (_FRICATIVE, 0.22, 0.15, _S_BAND, None),
        (_VOICED, 0.28, 1.0, "ih", "er"),
        (_VOICED, 0.25, 1.0, "er", "ow"),
        (_VOICED, 0.25, 0.8, "ow", "uw"),
    ],
    1: [  # "one"
        (_VOICED, 0.30, 0.8, "w", "ah"),
        (_VOICED, 0.35, 1.0, "ah", "ah"),
        (_VOICED, 0.35, 0.2, "n", "n"),
    ],
    2: [  # "two"
        (_GAP, 0.10, 0.0, None, None),
        (_BURST, 0.06, 0.3, None, None),
        (_FRICATIVE, 0.10, 0.1, _ASPIRATION_BAND, None),
        (_VOICED, 0.74, 1.0, "t", "uw"),
    ],
    3: [  # "three"
        (_FRICATIVE, 0.25, 0.04, _F_BAND, None),
        (_VOICED, 0.30, 0.9, "er", "iy"),
        (_VOICED, 0.45, 1.0, "iy", "iy"),
    ],
    4: [  # "four"
        (_FRICATIVE, 0.25, 0.05, _F_BAND, None),
        (_VOICED, 0.40, 1.0, "ao", "ao"),
        (_VOICED, 0.35, 0.9, "ao", "er"),
    ],
    5: [  # "five"
        (_FRICATIVE, 0.20, 0.05, _F_BAND, None),
        (_VOICED, 0.55, 1.0, "aa", "iy"),
        (_FRICATIVE, 0.25, 0.03, (300, 4000), None),
    ],
    6: [  # "six"
        (_FRICATIVE, 0.30, 0.3, _S_BAND, None),
        (_VOICED, 0.25, 1.0, "ih", "ih"),
        (_GAP, 0.12, 0.0, None, None),
        (_BURST, 0.05, 0.2, None, None),
        (_FRICATIVE, 0.28, 0.3, _S_BAND, None),
    ],
    7: [  # "seven"
        (_FRICATIVE, 0.25, 0.3, _S_BAND, None),
        (_VOICED, 0.20, 1.0, "eh", "eh"),
        (_FRICATIVE, 0.10, 0.03, (300, 4000), None),
        (_VOICED, 0.15, 0.7, "ah", "ah"),
        (_VOICED, 0.30, 0.2, "n", "n"),
    ],
    8: [  # "eight"
        (_VOICED, 0.60, 1.0, "eh", "iy"),
        (_GAP, 0.15, 0.0, None, None),
        (_BURST, 0.10, 0.2, None, None),
        (_FRICATIVE, 0.15, 0.08, _ASPIRATION_BAND, None),
    ],
    9: [  # "nine"
        (_VOICED, 0.25, 0.2, "n", "n"),
        (_VOICED, 0.50, 1.0, "aa", "iy"),
        (_VOICED, 0.25, 0.2, "n", "n"),
    ],
}

_FORMANT_GAINS = np.array([1.0, 0.4, 0.15])
_FORMANT_BANDWIDTHS_HZ = np.array([80.0, 110.0, 150.0])
# Width (standard deviation, Hz) of each harmonic peak, about that of the Hann window's main lobe.
_HARMONIC_WIDTH_HZ = 30.0


def load_demo(*, seed: int = 0, limit: int | None = None, noise_snr: float | None = None) -> dict[str, Split]:
    """Build the demo set in memory (no cache, no download).

    Parameters
    ----------
    seed : int
        Seeds the synthetic audio; sample ``i`` draws from ``default_rng([seed, i])``, so
        a pair's spectrogram does not depend on ``limit``.
    limit : int, optional
        Keep only the first ``limit`` pairs of each split.
    noise_snr : float, optional
        Add white noise at this signal-to-noise ratio (dB): flat noise power equal to
        the mean signal power divided by 10 ** (noise_snr / 10), with exponentially
        distributed fluctuations as in the STFT of white noise.

    Returns
    -------
    dict mapping 'train', 'val', 'test' to Split
        1,257 / 180 / 360 pairs before ``limit``.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    n_total = len(digits.target)
    bounds = {
        "train": (0, n_total - N_VAL - N_TEST),
        "val": (n_total - N_VAL - N_TEST, n_total - N_TEST),
        "test": (n_total - N_TEST, n_total),
    }

    splits = {}
    for name in SPLIT_NAMES:
        start, stop = bounds[name]
        if limit is not None:
            stop = min(stop, start + limit)
        index = np.arange(start, stop, dtype=np.int64)
        labels = digits.target[index].astype(np.int64)
        audio = np.zeros((len(index), *AUDIO_SHAPE), dtype=np.float32)
        for row, (image_index, label) in enumerate(zip(index, labels)):
            rng = np.random.default_rng([seed, int(image_index)])
            audio[row, 0] = synthesize_spectrogram(int(label), rng, noise_snr)
        splits[name] = Split(
            image=resize_digits(digits.images[index]),
            audio=audio,
            label=labels,
            image_index=index,
            recording=np.array([f"{label}_synthetic_{i}" for i, label in zip(index, labels)], dtype=str),
            attrs={
                "dataset": NAME,
                "description": DESCRIPTION,
                "split": name,
                "seed": seed,
                "limit": limit,
                "noise_snr": noise_snr,
                "synthetic_audio": True,
            },
        )
    return splits


def resize_digits(images: np.ndarray) -> np.ndarray:
    """Resize 8x8 digits (values 0-16) to 20x20 and centre them in 28x28, scaled to [0, 1].

    Returns
    -------
    ndarray of shape (n_samples, 1, 28, 28), float32
    """
    scaled = np.asarray(images, dtype=np.float64) / 16.0
    resized = scipy.ndimage.zoom(scaled, (1, 2.5, 2.5), order=1) if len(scaled) else np.zeros((0, 20, 20))
    framed = np.zeros((len(scaled), 1, 28, 28), dtype=np.float32)
    framed[:, 0, 4:24, 4:24] = np.clip(resized, 0.0, 1.0)
    return framed


def synthesize_spectrogram(digit: int, rng: np.random.Generator, noise_snr: float | None = None) -> np.ndarray:
    """Draw one synthetic spectrogram of the spoken ``digit``.

    Returns
    -------
    ndarray of shape (112, 112), float32 in [0, 1]
        Frequency along axis 0 (0-4 kHz), time along axis 1.
    """
    segments = _WORDS[digit]
    frequencies = FREQUENCIES_HZ[:, None]  # (n_frequencies, 1)

    # Speaker and token variation.
    pitch_hz = rng.uniform(85.0, 255.0)
    pitch_slope = rng.uniform(-0.25, 0.05)  # relative pitch change over the word
    formant_scale = rng.uniform(0.8, 1.25) * np.exp(rng.normal(0.0, 0.1, size=3))
    durations = np.array([segment[1] for segment in segments]) * np.exp(rng.normal(0.0, 0.45, size=len(segments)))
    lead, trail = rng.uniform(0.02, 0.25, size=2)
    noise_floor_db = rng.uniform(-65.0, -40.0)

    # Assign every frame to a segment and a position 0..1 inside it.
    edges = lead + (1.0 - lead - trail) * np.concatenate([[0.0], np.cumsum(durations) / durations.sum()])
    times = (np.arange(N_FRAMES) + 0.5) / N_FRAMES
    segment_of_frame = np.searchsorted(edges, times, side="right") - 1

    power = np.zeros((len(FREQUENCIES_HZ), N_FRAMES))
    for index, (kind, _, gain, start, end) in enumerate(segments):
        frames = np.flatnonzero(segment_of_frame == index)
        if frames.size == 0 or kind == _GAP:
            continue
        position = (times[frames] - edges[index]) / (edges[index + 1] - edges[index])
        if kind == _VOICED:
            power[:, frames] = gain * _voiced_power(
                frequencies, start, end, position, formant_scale, pitch_hz * (1.0 + pitch_slope * times[frames]), rng
            )
        elif kind == _FRICATIVE:
            low, high = start
            band = 1.0 / (1.0 + np.exp(-(frequencies - low) / 60.0)) / (1.0 + np.exp((frequencies - high) / 60.0))
            power[:, frames] = gain * band * rng.exponential(1.0, size=(len(FREQUENCIES_HZ), frames.size))
        else:  # burst
            power[:, frames] = gain * rng.exponential(1.0, size=(len(FREQUENCIES_HZ), frames.size))

    # Smooth onsets and offsets over about three frames, as a window spanning them would.
    power = scipy.ndimage.uniform_filter1d(power, size=3, axis=1, mode="constant")

    if noise_snr is not None:
        noise_power = power.mean() / 10.0 ** (noise_snr / 10.0)
        power = power + noise_power * rng.exponential(1.0, size=power.shape)
    floor = power.max() * 10.0 ** (noise_floor_db / 10.0)
    power = power + floor * rng.exponential(1.0, size=power.shape)
    return power_to_unit(power)


def _voiced_power(frequencies, start, end, position, formant_scale, pitch_hz, rng):
    """Return the (n_frequencies, n_frames) power of a voiced segment: harmonics times formants."""
    start_formants = np.array(_PHONES[start], dtype=np.float64)
    end_formants = np.array(_PHONES[end], dtype=np.float64)
    # Linear glide from the start phone to the end phone, then the speaker's scale.
    glide = start_formants[:, None] + (end_formants - start_formants)[:, None] * position[None, :]
    formants = glide * formant_scale[:, None]

    # Vocal-tract envelope: one Gaussian resonance per formant, F1 strongest.
    envelope = np.zeros((frequencies.shape[0], position.size))
    for gain, bandwidth, track in zip(_FORMANT_GAINS, _FORMANT_BANDWIDTHS_HZ, formants):
        envelope += gain * np.exp(-0.5 * ((frequencies - track[None, :]) / bandwidth) ** 2)

    # Harmonic comb: peaks at multiples of the pitch, each a Gaussian of width
    # _HARMONIC_WIDTH_HZ near its centre (a von Mises shape, periodic in frequency).
    concentration = (pitch_hz / (2.0 * np.pi * _HARMONIC_WIDTH_HZ)) ** 2
    comb = np.exp(concentration[None, :] * (np.cos(2.0 * np.pi * frequencies / pitch_hz[None, :]) - 1.0))

    texture = rng.gamma(4.0, 0.25, size=envelope.shape)  # mean 1, +-50 %
    return envelope * (0.05 + comb) * texture
