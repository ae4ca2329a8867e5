"""Raw-file parsing: MNIST IDX, FSDD WAV and the spectrogram."""

import gzip

import numpy as np
import pytest
import scipy.io.wavfile

from assoc.data.audio import FREQUENCIES_HZ, N_FFT, SAMPLE_RATE, add_noise, read_wav, spectrogram
from assoc.data.mnist import IMAGES_MAGIC, LABELS_MAGIC, load_mnist, read_idx
from assoc.data.transforms import fit_pca_basis, project_images
from assoc.errors import ConfigError, DataError, DataNotFoundError

# Label histograms of the MNIST training and test files, digits 0-9.
TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _write_idx(path, magic, shape, data=None):
    header = magic.to_bytes(4, "big") + b"".join(size.to_bytes(4, "big") for size in shape)
    body = bytes(int(np.prod(shape))) if data is None else data
    with gzip.open(path, "wb") as stream:
        stream.write(header + body)


# MNIST IDX files.


@pytest.mark.data
def test_mnist_counts_and_histograms(raw_data_dir):
    mnist = load_mnist(raw_data_dir)
    assert mnist["train_images"].shape == (60000, 28, 28)
    assert mnist["test_images"].shape == (10000, 28, 28)
    assert np.bincount(mnist["train_labels"]).tolist() == TRAIN_LABEL_COUNTS
    assert np.bincount(mnist["test_labels"]).tolist() == TEST_LABEL_COUNTS


@pytest.mark.data
def test_mnist_train_pixel_mean(raw_data_dir):
    images = read_idx(raw_data_dir / "mnist" / "train-images-idx3-ubyte.gz", IMAGES_MAGIC)
    assert images.dtype == np.uint8
    assert images.mean() / 255.0 == pytest.approx(0.130660, abs=1e-6)
    assert round(images.mean() / 255.0, 4) == 0.1307


def test_idx_small_file_round_trip(tmp_path):
    data = bytes(range(24))
    _write_idx(tmp_path / "x.gz", IMAGES_MAGIC, (2, 3, 4), data)
    array = read_idx(tmp_path / "x.gz", IMAGES_MAGIC)
    assert array.shape == (2, 3, 4)
    assert array[1, 2, 3] == 23


def test_idx_wrong_magic(tmp_path):
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", LABELS_MAGIC, (5,))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz has IDX magic number 2049; expected 2051"):
        read_idx(tmp_path / "train-images-idx3-ubyte.gz", IMAGES_MAGIC)


def test_idx_length_disagrees_with_header(tmp_path):
    _write_idx(tmp_path / "labels.gz", LABELS_MAGIC, (10,), bytes(7))
    with pytest.raises(DataError, match=r"has 7 data bytes but its header declares shape \(10,\)"):
        read_idx(tmp_path / "labels.gz", LABELS_MAGIC)


@pytest.mark.data
def test_idx_truncated_gz(raw_data_dir, tmp_path):
    source = raw_data_dir / "mnist" / "train-labels-idx1-ubyte.gz"
    truncated = tmp_path / "train-labels-idx1-ubyte.gz"
    truncated.write_bytes(source.read_bytes()[:1000])
    message = r"train-labels-idx1-ubyte\.gz is truncated or not a valid gzip file.*assoc data fetch"
    with pytest.raises(DataError, match=message):
        read_idx(truncated, LABELS_MAGIC)


def test_idx_not_gzip(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(b"this is not gzip data")
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz is truncated or not a valid gzip file"):
        read_idx(path, LABELS_MAGIC)


def test_mnist_missing_data_dir(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError, match=r"Data directory not found: .*nowhere\. Run 'assoc data fetch'"):
        load_mnist(missing)


@pytest.mark.data
def test_mnist_missing_file(raw_data_dir, tmp_path):
    (tmp_path / "mnist").mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        (tmp_path / "mnist" / name).symlink_to(raw_data_dir / "mnist" / name)
    with pytest.raises(DataNotFoundError, match=r"MNIST file not found: .*t10k-labels-idx1-ubyte\.gz"):
        load_mnist(tmp_path)


# FSDD WAV files.


@pytest.mark.data
def test_wav_real_recording(raw_data_dir):
    import wave

    path = raw_data_dir / "fsdd" / "recordings" / "0_george_0.wav"
    waveform = read_wav(path)
    with wave.open(str(path)) as reference:
        n_frames = reference.getnframes()
    assert waveform.shape == (n_frames,)
    assert waveform.dtype == np.float64
    assert np.abs(waveform).max() < 1.0


def test_wav_round_trip(tmp_path):
    samples = np.array([0, 16384, -32768, 32767, -1], dtype=np.int16)
    scipy.io.wavfile.write(tmp_path / "1_test_0.wav", SAMPLE_RATE, samples)
    np.testing.assert_array_equal(read_wav(tmp_path / "1_test_0.wav"), samples / 32768.0)


def test_wav_other_sample_rate(tmp_path):
    scipy.io.wavfile.write(tmp_path / "2_x_0.wav", 16000, np.zeros(100, dtype=np.int16))
    with pytest.raises(DataError, match=r"2_x_0\.wav has sample rate 16000 Hz; expected 8000 Hz"):
        read_wav(tmp_path / "2_x_0.wav")


def test_wav_stereo(tmp_path):
    scipy.io.wavfile.write(tmp_path / "3_x_0.wav", SAMPLE_RATE, np.zeros((100, 2), dtype=np.int16))
    with pytest.raises(DataError, match=r"3_x_0\.wav has 2 channels; expected 1 \(mono\)"):
        read_wav(tmp_path / "3_x_0.wav")


def test_wav_other_sample_format(tmp_path):
    scipy.io.wavfile.write(tmp_path / "4_x_0.wav", SAMPLE_RATE, np.zeros(100, dtype=np.float32))
    with pytest.raises(DataError, match=r"4_x_0\.wav has float32 samples; expected 16-bit integer PCM"):
        read_wav(tmp_path / "4_x_0.wav")


def test_wav_not_a_wav(tmp_path):
    (tmp_path / "5_x_0.wav").write_bytes(b"RIFF....garbage")
    with pytest.raises(DataError, match=r"5_x_0\.wav is not a readable WAV file"):
        read_wav(tmp_path / "5_x_0.wav")


def test_wav_missing(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"WAV file not found: .*6_x_0\.wav"):
        read_wav(tmp_path / "6_x_0.wav")


# Spectrogram.


@pytest.mark.parametrize("n_samples", [1, 100, N_FFT, 1120, 4000, 18400])
def test_spectrogram_shape_any_length(n_samples):
    rng = np.random.default_rng(0)
    result = spectrogram(rng.standard_normal(n_samples))
    assert result.shape == (112, 112)
    assert result.dtype == np.float32
    assert result.min() >= 0.0
    assert result.max() == 1.0


def test_spectrogram_deterministic():
    waveform = np.random.default_rng(1).standard_normal(3000)
    np.testing.assert_array_equal(spectrogram(waveform), spectrogram(waveform.copy()))


def test_spectrogram_tone_peaks_in_its_bin():
    # A 1 kHz tone lands in bin 1000 / (8000 / 222) = 27.75, so bin 28 is the loudest row.
    time = np.arange(4000) / SAMPLE_RATE
    result = spectrogram(np.sin(2 * np.pi * 1000.0 * time))
    assert FREQUENCIES_HZ[28] == pytest.approx(1009.0, abs=0.1)
    assert np.all(result.argmax(axis=0) == 28)


def test_spectrogram_silence_is_zero():
    assert not spectrogram(np.zeros(2000)).any()


def test_spectrogram_rejects_empty():
    with pytest.raises(ConfigError, match=r"waveform must be a non-empty 1-D array; got shape \(0,\)"):
        spectrogram(np.zeros(0))


def test_add_noise_reaches_snr():
    rng = np.random.default_rng(2)
    signal = np.sin(np.arange(200_000) * 0.05)
    noisy = add_noise(signal, 10.0, rng)
    measured = 10 * np.log10(np.mean(signal**2) / np.mean((noisy - signal) ** 2))
    assert measured == pytest.approx(10.0, abs=0.1)


# PCA degradation.


def test_pca_keeps_leading_component():
    # Variances 9 and 1 along the axes: the first component alone explains 90 % >= 25 %.
    rng = np.random.default_rng(3)
    points = rng.standard_normal((20000, 2)) * np.array([3.0, 1.0])
    mean, components = fit_pca_basis(points, kept_variance=0.25)
    assert components.shape == (1, 2)
    assert abs(components[0, 0]) == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_allclose(mean, 0.0, atol=0.05)


def test_pca_projection_reconstructs_in_span():
    images = np.zeros((4, 1, 28, 28), dtype=np.float32)
    images[0, 0, 0, 0] = images[1, 0, 0, 0] = 1.0
    mean, components = fit_pca_basis(images, kept_variance=1.0)
    np.testing.assert_allclose(project_images(images, mean, components), images, atol=1e-6)



def _recording_bytes() -> bytes:
    """A valid 8 kHz mono 16-bit WAV: 44-byte header ('fmt ' and 'data' chunks), then 200 samples."""
    import io

    stream = io.BytesIO()
    scipy.io.wavfile.write(stream, SAMPLE_RATE, np.arange(200, dtype=np.int16))
    return stream.getvalue()


@pytest.mark.parametrize(
    "n_bytes, message",
    [
        (0, "0 bytes, fewer than the 12 of a RIFF header"),
        (8, "8 bytes, fewer than the 12 of a RIFF header"),
        (12, "no 'fmt' chunk"),
        (20, "'fmt ' chunk at byte 12 declares 16 bytes but only 0 follow"),
        (30, "'fmt ' chunk at byte 12 declares 16 bytes but only 10 follow"),
        (36, "no 'data' chunk"),
        (40, "ends 4 bytes into the chunk header at byte 36"),
        (44, "'data' chunk at byte 36 declares 400 bytes but only 0 follow"),
        (443, "'data' chunk at byte 36 declares 400 bytes but only 399 follow"),
    ],
)
def test_wav_truncated(tmp_path, n_bytes, message):
    path = tmp_path / "7_x_0.wav"
    path.write_bytes(_recording_bytes()[:n_bytes])
    with pytest.raises(DataError, match="truncated or corrupt") as error_info:
        read_wav(path)
    assert str(path) in str(error_info.value)
    assert message in str(error_info.value)


def test_wav_truncated_real_recording(raw_data_dir, tmp_path):
    path = tmp_path / "0_george_0.wav"
    path.write_bytes((raw_data_dir / "fsdd" / "recordings" / "0_george_0.wav").read_bytes()[:30])
    with pytest.raises(DataError, match=r"0_george_0\.wav is truncated or corrupt"):
        read_wav(path)


def test_wav_damaged_outside_cache_advice(tmp_path, cache_dir):
    path = tmp_path / "data" / "8_x_0.wav"
    path.parent.mkdir()
    path.write_bytes(_recording_bytes()[:30])
    with pytest.raises(DataError) as error_info:
        read_wav(path)
    message = str(error_info.value)
    assert "replace the file with an intact copy" in message
    assert "build without --data-dir" in message
    assert "Delete it" not in message


def test_wav_damaged_inside_cache_advice(cache_dir):
    path = cache_dir / "fsdd" / "recordings" / "9_x_0.wav"
    path.parent.mkdir(parents=True)
    path.write_bytes(_recording_bytes()[:30])
    with pytest.raises(DataError, match="Delete it and run 'assoc data fetch' to download it again"):
        read_wav(path)


def test_incomplete_recordings_outside_cache_advice(tmp_path, cache_dir):
    from assoc.data.fsdd import check_recording_sets, list_recordings

    recordings = tmp_path / "data" / "fsdd" / "recordings"
    recordings.mkdir(parents=True)
    (recordings / "0_x_0.wav").write_bytes(_recording_bytes())
    with pytest.raises(DataError) as error_info:
        check_recording_sets(list_recordings(tmp_path / "data"))
    message = str(error_info.value)
    assert "No FSDD training (index 5-49) recording of digit 0" in message
    assert "replace the folder with an intact copy" in message
