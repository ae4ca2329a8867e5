"""Spoken-digit audio: reading FSDD WAV files and turning waveforms into spectrograms.

The spectrogram is a linear-frequency STFT in log power (dB), 112 frequency bins by
112 time frames for a recording of any length:

- window: periodic Hann, 222 samples (27.75 ms at 8 kHz), FFT length 222, so the
  one-sided spectrum has exactly 112 bins from 0 Hz to 4 kHz (the Nyquist frequency)
  spaced 8000 / 222 = 36.0 Hz apart;
- hop: the 112 frame starts are spread evenly from the first sample to the last full
  window, rounded to whole samples. Every recording therefore spans all 112 frames, and
  the hop is (n_samples - 222) / 111 samples: it grows with the recording's duration.
  FSDD's 0.144-2.283 s recordings give hops of about 8 to 163 samples (1-20 ms);
- padding: a recording shorter than one window (222 samples) is zero-padded equally on
  both sides to one window. Longer recordings are never padded or cropped;
- scaling: power in dB relative to the recording's loudest bin, clipped at 80 dB below
  it, mapped linearly to [0, 1] (1 is the loudest bin, 0 is -80 dB or quieter). An
  all-zero recording gives an all-zero spectrogram.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import numpy as np
import scipy.io.wavfile

from assoc.data.paths import raw_file_fix
from assoc.errors import ConfigError, DataError, DataNotFoundError

SAMPLE_RATE = 8000
N_FFT = 222
N_FREQUENCIES = N_FFT // 2 + 1
N_FRAMES = 112
TOP_DB = 80.0

# Centre frequency (Hz) of each spectrogram row, low to high: 0, 36.0, ..., 4000.
FREQUENCIES_HZ = np.fft.rfftfreq(N_FFT, d=1.0 / SAMPLE_RATE)

# Periodic Hann window, w[n] = 0.5 - 0.5 cos(2 pi n / N), as scipy.signal.get_window("hann", N)
# returns it (written out because importing scipy.signal takes seconds).
_WINDOW = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)


def read_wav(path: str | os.PathLike) -> np.ndarray:
    """Read an FSDD recording: 8 kHz, mono, 16-bit PCM.

    Returns
    -------
    waveform : ndarray of shape (n_samples,), float64 in [-1, 1)
        The samples divided by 32768.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataError
        The file is truncated (a chunk header or chunk ends before its declared size),
        is not a readable WAV, or has another sample rate, channel count or sample
        format.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"WAV file not found: {path}. Run 'assoc data fetch' or check --data-dir.")
    try:
        content = path.read_bytes()
    except OSError as error:
        raise DataError(f"Could not read {path} ({error}). Check the file's permissions.") from error
    check_wav_chunks(path, content)
    try:
        with warnings.catch_warnings():
            # scipy warns about chunks it skips (for example LIST metadata); they carry no audio.
            warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)
            rate, samples = scipy.io.wavfile.read(io.BytesIO(content))
    except (ValueError, EOFError, struct.error) as error:
        raise DataError(f"{path} is not a readable WAV file ({error}). {raw_file_fix(path)}") from error
    fix = "FSDD recordings are 8 kHz mono 16-bit PCM; restore the original file or convert it to that format."
    if rate != SAMPLE_RATE:
        raise DataError(f"{path} has sample rate {rate} Hz; expected {SAMPLE_RATE} Hz. {fix}")
    if samples.ndim != 1:
        raise DataError(f"{path} has {samples.shape[1]} channels; expected 1 (mono). {fix}")
    if samples.dtype != np.int16:
        raise DataError(f"{path} has {samples.dtype} samples; expected 16-bit integer PCM. {fix}")
    if samples.size == 0:
        raise DataError(f"{path} contains no samples. {raw_file_fix(path)}")
    return samples.astype(np.float64) / 32768.0


def check_wav_chunks(path: Path, content: bytes) -> None:
    """Raise DataError when a RIFF WAV file ends inside a chunk header or a chunk's body.

    A RIFF file is a 12-byte header (``RIFF``, size, ``WAVE``) followed by chunks, each
    an 8-byte header (four-letter id, body size) and the body. The check walks every
    chunk and requires ``fmt `` and ``data`` chunks. Files that do not start with a
    ``RIFF``/``RIFX`` ``WAVE`` header are left to scipy, which names the format problem.
    """
    size = len(content)
    if size < 12:
        raise DataError(
            f"{path} is truncated or corrupt: it has {size} bytes, fewer than the 12 of a RIFF header. "
            f"{raw_file_fix(path)}"
        )
    byteorder = {b"RIFF": "little", b"RIFX": "big"}.get(content[:4])
    if byteorder is None or content[8:12] != b"WAVE":
        return

    offset = 12
    chunk_ids = set()
    while offset < size:
        if size - offset < 8:
            raise DataError(
                f"{path} is truncated or corrupt: it ends {size - offset} bytes into the chunk header at "
                f"byte {offset}, which needs 8. {raw_file_fix(path)}"
            )
        chunk_id = content[offset : offset + 4]
        declared = int.from_bytes(content[offset + 4 : offset + 8], byteorder)
        available = size - offset - 8
        if declared > available:
            name = chunk_id.decode("ascii", errors="replace")
            raise DataError(
                f"{path} is truncated or corrupt: its {name!r} chunk at byte {offset} declares {declared} bytes "
                f"but only {available} follow. {raw_file_fix(path)}"
            )
        chunk_ids.add(chunk_id)
        # Chunk bodies of odd size are followed by one pad byte.
        offset += 8 + declared + (declared & 1)

    for required in (b"fmt ", b"data"):
        if required not in chunk_ids:
            raise DataError(
                f"{path} is truncated or corrupt: it has no {required.decode().strip()!r} chunk. "
                f"{raw_file_fix(path)}"
            )


def spectrogram(waveform: np.ndarray) -> np.ndarray:
    """Compute the 112 x 112 log-power spectrogram of an 8 kHz waveform, scaled to [0, 1].

    Parameters
    ----------
    waveform : ndarray of shape (n_samples,)
        Samples at 8 kHz, any length of at least one sample.

    Returns
    -------
    ndarray of shape (112, 112), float32 in [0, 1]
        Frequency along axis 0 (0 Hz to 4 kHz, low to high), time along axis 1.
        See the module docstring for the window, hop, padding and scaling.
    """
    waveform = np.asarray(waveform, dtype=np.float64)
    if waveform.ndim != 1 or waveform.size == 0:
        raise ConfigError(f"waveform must be a non-empty 1-D array; got shape {waveform.shape}.")
    if waveform.size < N_FFT:
        # Centre a short recording in one window, where the Hann window is not near zero.
        before = (N_FFT - waveform.size) // 2
        waveform = np.pad(waveform, (before, N_FFT - waveform.size - before))

    # Frame the signal: 112 windows whose starts are spread evenly over the recording.
    starts = np.rint(np.linspace(0, waveform.size - N_FFT, N_FRAMES)).astype(np.int64)
    frames = waveform[starts[:, None] + np.arange(N_FFT)[None, :]] * _WINDOW
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (n_frames, n_frequencies)

    return power_to_unit(power.T)


def power_to_unit(power: np.ndarray) -> np.ndarray:
    """Map a power spectrogram to [0, 1]: dB below its maximum, clipped at 80 dB.

    1 is the loudest bin and 0 is 80 dB below it or quieter. An all-zero input maps to
    all zeros.
    """
    peak = float(power.max())
    if peak <= 0.0:
        return np.zeros(power.shape, dtype=np.float32)
    decibels = 10.0 * np.log10(np.maximum(power, peak * 10.0 ** (-TOP_DB / 10.0)) / peak)
    return ((decibels + TOP_DB) / TOP_DB).astype(np.float32)


def add_noise(waveform: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise at a signal-to-noise ratio of ``snr_db`` decibels.

    The signal power is the mean square of ``waveform``; the noise variance is that
    power divided by 10 ** (snr_db / 10).
    """
    waveform = np.asarray(waveform, dtype=np.float64)
    signal_power = float(np.mean(waveform**2))
    noise_std = np.sqrt(signal_power / 10.0 ** (snr_db / 10.0))
    return waveform + noise_std * rng.standard_normal(waveform.shape)
