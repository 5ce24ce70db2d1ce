"""attach: a task model's own predict path runs through the deployed part, for every kind that deploys, and gives
what torch gives. A predict that bypassed the part would make tools/deploy.py --eval report torch's figures as the
backend's (it did for classifiers and face models), so the spy below must be called."""
import copy

import pytest
import torch

from resbackbones.deploy import attach, deploy_target
from resbackbones.registry import MODELS

BACKBONE = dict(type='ResNet', depth=18, base_channels=8, in_channels=1)
MODELS_AND_INPUTS = {
    'image_classifier': (dict(type='ImageClassifier', backbone=BACKBONE, num_classes=3), (2, 1, 32, 32)),
    # three clips per video, their softmax averaged by predict ('prob'): the backend must give every clip's logits
    'video_recognizer_3_clips': (dict(type='Recognizer3D', num_classes=3, dropout=0.0,
                                      backbone=dict(type='ResNet3d', depth=18, base_channels=8)),
                                 (2, 3, 3, 4, 16, 16)),
    'tsn_8_segments': (dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18, base_channels=8),
                            cls_head=dict(type='TSNHead', num_classes=4, dropout_ratio=0.0, average_clips='prob')),
                       (2, 8, 3, 32, 32)),
    'face_flip_test': (dict(type='FaceRecognizer', num_classes=5, input_size=(16, 16), flip_test=True,
                            backbone=dict(type='IResNet', depth=18, in_channels=1, base_channels=8, num_stages=2,
                                          strides=(1, 2), out_indices=(1,)),
                            embedding=dict(embedding_dim=16)), (2, 1, 16, 16)),
    # images and three-view videos through one backbone; the image classifier answers a 4-D batch
    'omnisource_images': (dict(type='RecognizerOmni',
                               backbone=dict(type='OmniResNet', layers=(1, 1, 1, 1), base_channels=8),
                               cls_head=dict(type='OmniHead', image_classes=5, video_classes=3,
                                             average_clips='prob')), (2, 3, 32, 32)),
    'omnisource_video_views': (dict(type='RecognizerOmni',
                                    backbone=dict(type='OmniResNet', layers=(1, 1, 1, 1), base_channels=8),
                                    cls_head=dict(type='OmniHead', image_classes=5, video_classes=3,
                                                  average_clips='prob')), (2, 2, 3, 4, 32, 32)),
    # sliding windows over a volume whose sizes are no multiple of the patch or the strides
    'unet3d_slide': (dict(type='UNet', num_classes=3, decoder=dict(decoder_channels=(16, 8, 8, 8)),
                          backbone=dict(type='VolumeResNet', depth=18, base_channels=8, in_channels=1, num_stages=3,
                                        out_indices=('stem', 0, 1, 2)),
                          test_cfg=dict(mode='slide', patch_size=(16, 16, 16), overlap=0.25, batch_size=2)),
                     (1, 1, 20, 24, 18)),
    'unet3d_whole': (dict(type='UNet', num_classes=3, decoder=dict(decoder_channels=(16, 8, 8, 8)),
                          backbone=dict(type='VolumeResNet', depth=18, base_channels=8, in_channels=1, num_stages=3,
                                        out_indices=('stem', 0, 1, 2))), (1, 1, 12, 28, 30)),
    'unet': (dict(type='UNet', num_classes=2, backbone=dict(BACKBONE, out_indices=('stem', 0, 1, 2, 3)),
                  decoder=dict(decoder_channels=(32, 16, 16, 8, 8))), (1, 1, 64, 64)),
}


class Spy:
    """A stand-in backend: the torch tensor part of a copy of the model, counting its calls."""

    def __init__(self, part):
        self.part, self.calls, self.shapes = part, 0, []

    def __call__(self, x):
        self.calls += 1
        self.shapes.append(tuple(x.shape))
        with torch.no_grad():
            return self.part(x)


def _values(predictions) -> list[torch.Tensor]:
    out = []
    for p in predictions:
        for key in ('pred_score', 'embedding', 'seg_probs', 'pred_sem_seg'):
            value = p.get(key) if isinstance(p, dict) else getattr(p, key, None)
            value = getattr(value, 'data', value)
            if isinstance(value, torch.Tensor):
                out.append(value.float())
    return out


@pytest.mark.parametrize('name', sorted(MODELS_AND_INPUTS))
def test_predict_goes_through_the_deployed_part(name, randomise):
    cfg, shape = MODELS_AND_INPUTS[name]
    model = randomise(MODELS.build(cfg)).eval()
    x = torch.randn(shape)
    with torch.no_grad():
        expected = _values(model(x, mode='predict'))
    spy = Spy(deploy_target(copy.deepcopy(model), x).module)
    with torch.no_grad():
        got = _values(attach(model, spy)(x, mode='predict'))
    assert spy.calls > 0
    if hasattr(model, 'size_divisor'):  # a segmentor's backend only meets inputs padded to its strides, per axis
        divisors = (model.depth_divisor, model.size_divisor, model.size_divisor)[-model.dims:]
        assert all(n % d == 0 for shape in spy.shapes for n, d in zip(shape[2:], divisors)), spy.shapes
    assert expected and len(got) == len(expected)
    for a, b in zip(expected, got):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)


def test_a_wrong_backend_changes_the_predictions(randomise):
    # the converse: what the backend returns is what predict reads
    cfg, shape = MODELS_AND_INPUTS['video_recognizer_3_clips']
    model = randomise(MODELS.build(cfg)).eval()
    x = torch.randn(shape)
    attach(model, lambda clips: torch.tensor([[0.0, 0.0, 9.0]]).repeat(len(clips), 1))
    with torch.no_grad():
        assert all(p['pred_label'] == 2 for p in model(x, mode='predict'))
