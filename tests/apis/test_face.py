"""embed_faces: eval mode whatever the model's, one image alone is one embedding, empty and path-like inputs."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest
import torch
from PIL import Image

from resbackbones.apis.face import embed_faces
from resbackbones.registry import MODELS

MODEL = dict(type='FaceRecognizer', num_classes=5, input_size=(16, 16),
             data_preprocessor=dict(type='ImgDataPreprocessor', mean=[127.5], std=[127.5]),
             backbone=dict(type='IResNet', depth=18, in_channels=1, base_channels=8, num_stages=2, strides=(1, 2),
                           out_indices=(1,)),
             embedding=dict(embedding_dim=16))


@pytest.fixture
def model():
    torch.manual_seed(0)
    return MODELS.build(MODEL)  # in training mode, as built


def faces(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (16, 16, 1), dtype=np.uint8) for _ in range(count)]


def test_a_training_model_is_run_in_eval_mode_and_given_back_unchanged(model):
    # BatchNorm statistics were rewritten and an image's embedding depended on its batch-mates (cosine 0.18)
    a, b, c = faces(3)
    stats = {k: v.clone() for k, v in model.state_dict().items() if 'running' in k}
    first, second = embed_faces(model, [a, b])[0], embed_faces(model, [a, c])[0]
    assert float(first @ second) == pytest.approx(1.0, abs=1e-5)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in stats.items()) and model.training
    assert embed_faces(model, [a]).shape == (1, 16)  # a batch of one ran BatchNorm in training mode: an error


def test_one_image_alone_is_one_embedding_and_paths_may_be_path_objects(model, tmp_path):
    [a] = faces(1)
    Image.fromarray(a[..., 0]).save(tmp_path / 'a.png')
    alone, path = embed_faces(model, a), embed_faces(model, pathlib.Path(tmp_path / 'a.png'))
    assert alone.shape == path.shape == (1, 16)  # was (16, 16): a row of the image per "image"
    np.testing.assert_allclose(alone, path, atol=1e-6)
    assert embed_faces(model, []).shape == (0, 16)
