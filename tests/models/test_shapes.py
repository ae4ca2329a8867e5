import pytest
import torch

from assoc.errors import ConfigError
from models.config import TrainConfig
from models.decoders import ConvDecoder, audio_decoder, image_decoder
from models.model import AUDIO, VISUAL, build_model
from models.tokenizers import LeNetTokenizer, audio_tokenizer, image_tokenizer

SMALL = TrainConfig(dataset="demo", k=8, width=4, hidden=6)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_tokenizer_shapes(batch_size):
    image = image_tokenizer(5).train()
    audio = audio_tokenizer(5).train()
    assert image.n_features == 48
    assert audio.n_features == 192
    assert image.extract(torch.rand(batch_size, 1, 28, 28)).shape == (batch_size, 48)
    assert audio.extract(torch.rand(batch_size, 1, 112, 112)).shape == (batch_size, 192)
    assert image(torch.rand(batch_size, 1, 28, 28)).shape == (batch_size, 5)
    assert audio(torch.rand(batch_size, 1, 112, 112)).shape == (batch_size, 5)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_decoder_shapes_and_range(batch_size):
    codes = 10 * torch.randn(batch_size, 8)
    image = image_decoder(8)(codes)
    audio = audio_decoder(8)(codes)
    assert image.shape == (batch_size, 1, 28, 28)
    assert audio.shape == (batch_size, 1, 112, 112)
    for output in (image, audio):
        assert float(output.detach().min()) >= 0.0
        assert float(output.detach().max()) <= 1.0


def test_tokenizer_rejects_wrong_depth():
    with pytest.raises(ConfigError, match="shrinks to 1×1"):
        LeNetTokenizer(28, 2, 4)


def test_decoder_rejects_bad_size():
    with pytest.raises(ConfigError, match="7 · 2\\*\\*m"):
        ConvDecoder(8, 30)


@pytest.mark.parametrize("variant", ["rotation", "no_rotation", "separate"])
def test_model_codes_and_losses_batch_of_one(variant):
    model = build_model(SMALL.replace(variant=variant)).train()
    image, audio = torch.rand(1, 1, 28, 28), torch.rand(1, 1, 112, 112)
    code_v = model.encode(image, VISUAL)
    assert code_v.shape == (1, 8)
    assert model.decode(code_v, VISUAL).shape == (1, 1, 28, 28)
    assert model.decode(model.transfer(code_v, VISUAL, AUDIO), AUDIO).shape == (1, 1, 112, 112)
    # InfoNCE needs two pairs, so the batch-of-one loss switches it off.
    terms = model.loss_terms(image, audio, SMALL.replace(variant=variant, contrastive_weight=0.0))
    assert torch.isfinite(terms["total"])
    terms["total"].backward()


def test_derotation_recovers_shared_code():
    model = build_model(SMALL).eval()
    image = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        derotated = model.derotate(model.encode(image, VISUAL), VISUAL)
        torch.testing.assert_close(derotated, model.shared_code(image, VISUAL), atol=1e-5, rtol=0)


def test_no_rotation_variant_uses_identity():
    model = build_model(SMALL.replace(variant="no_rotation"))
    rotations = model.rotations_numpy()
    for modality in (VISUAL, AUDIO):
        assert (rotations[modality] == torch.eye(8).numpy()).all()


def test_separate_variant_has_two_embeddings():
    model = build_model(SMALL.replace(variant="separate"))
    assert model.embedding_matrix(VISUAL) is not model.embedding_matrix(AUDIO)
    shared = build_model(SMALL)
    assert shared.embedding_matrix(VISUAL) is shared.embedding_matrix(AUDIO)


def test_numpy_interface_shapes():
    model = build_model(SMALL)
    images = torch.rand(5, 1, 28, 28).numpy()
    codes = model.encode_numpy(images, VISUAL, batch_size=2)
    assert codes.shape == (5, 8)
    assert model.decode_numpy(codes, AUDIO).shape == (5, 1, 112, 112)
    assert model.rotations_numpy()[AUDIO].shape == (8, 8)
    assert model.training


def test_late_fusion_logits_batch_of_one():
    model = build_model(SMALL.replace(variant="late_fusion")).train()
    logits = model(torch.rand(1, 1, 28, 28), torch.rand(1, 1, 112, 112))
    assert logits.shape == (1, 10)


def test_unknown_modality():
    model = build_model(SMALL)
    with pytest.raises(ConfigError, match="Unknown modality 'text'"):
        model.encode(torch.rand(1, 1, 28, 28), "text")
