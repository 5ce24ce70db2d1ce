"""embed_faces: eval mode whatever the model's, one image alone is one embedding, empty and path-like inputs."""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from resbackbones.apis.face import embed_faces, init_recognizer
from resbackbones.registry import MODELS

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from insightface_reference import InsightfaceIResNet  # noqa: E402

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


RGB_MODEL = dict(MODEL, data_preprocessor=dict(type='ImgDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3),
                 backbone=dict(MODEL['backbone'], in_channels=3))


def test_arrays_are_brought_to_the_backbones_channels_as_files_are():
    # a grey array reached the 3-value normaliser whole: mmengine's bare AssertionError
    model = MODELS.build(RGB_MODEL)
    [grey] = faces(1)
    rgb = np.repeat(grey, 3, axis=2)
    rgba = np.concatenate([rgb, np.full_like(grey, 255)], axis=2)
    expected = embed_faces(model, rgb)
    for same in (grey, grey[..., 0], rgba):
        np.testing.assert_allclose(embed_faces(model, same), expected, atol=1e-6)


@pytest.mark.parametrize('image', [np.zeros((16, 16, 3), np.float32), np.zeros((16, 16, 2), np.uint8), 3])
def test_an_array_of_another_kind_is_named(image):
    model = MODELS.build(RGB_MODEL)
    images = [np.zeros((16, 16, 3), np.uint8), image]
    with pytest.raises(ValueError, match=r'image 1 must be a path or a non-empty uint8 array HxW, HxWx1, HxWx3 '
                                         r'\(RGB\)'):
        embed_faces(model, images)


def test_landmarks_for_a_model_of_oblong_crops_are_refused():
    # the face was aligned to a square and then squashed to (16, 12)
    model = MODELS.build(dict(RGB_MODEL, input_size=(16, 12)))
    with pytest.raises(ValueError, match=r'landmarks align to a square ArcFace template, but the model takes '
                                         r'\(16, 12\) crops'):
        embed_faces(model, [np.zeros((32, 32, 3), np.uint8)], landmarks=[np.zeros((5, 2))])


@torch.no_grad()
def test_init_recognizer_takes_insightfaces_checkpoint_and_arcface_torchs_config(tmp_path, randomise):
    # both were refused: a strict loader of our keys, and a bare RuntimeError from mmengine's lazy import
    reference = randomise(InsightfaceIResNet(width=16, embedding=32))
    torch.save(reference.state_dict(), tmp_path / 'backbone.pth')
    cfg = Config(dict(model=dict(type='FaceRecognizer', num_classes=10, embedding=dict(embedding_dim=32),
                                 backbone=dict(type='IResNet', depth=18, base_channels=16))))
    model = init_recognizer(cfg, str(tmp_path / 'backbone.pth'))
    faces_ = torch.rand(2, 3, 112, 112)
    torch.testing.assert_close(model(faces_), reference.eval()(faces_))
    (tmp_path / 'ms1mv2_r18.py').write_text('from easydict import EasyDict as edict\nconfig = edict()\n'
                                            'config.network = "r18"\nconfig.rec = "/data/ms1m"\n'
                                            'config.num_classes = 10\nconfig.num_epoch = 2\n')
    model = init_recognizer(str(tmp_path / 'ms1mv2_r18.py'))
    assert type(model).__name__ == 'FaceRecognizer' and len(model.backbone.layer1) == 2  # IResNet-18


def test_the_flip_test_follows_the_models_unless_asked(model):
    # tools/test.py's predict flipped for a flip_test config and embed_faces did not: its threshold did not apply
    model.eval().flip_test = True
    a, = faces(1)
    np.testing.assert_allclose(embed_faces(model, a), embed_faces(model, a, flip=True))
    assert not np.allclose(embed_faces(model, a, flip=False), embed_faces(model, a))


@pytest.mark.parametrize('batch_size', [0, -1, 2.0])
def test_a_bad_batch_size_is_named(model, batch_size):
    with pytest.raises(ValueError, match=rf'batch_size must be an integer >= 1; got {batch_size}'):
        embed_faces(model, faces(2), batch_size=batch_size)


def test_a_pil_image_is_named_not_iterated(model):
    with pytest.raises(ValueError, match='image 0 must be a path or a non-empty uint8 array .*; got Image'):
        embed_faces(model, Image.fromarray(faces(1)[0][..., 0]))
