"""Recognizer3D: the classifier glue over ResNet3d, multi-clip averaging, mmaction2 checkpoints, and learning motion."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
from mmaction2_reference import to_mmaction2_keys  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY = dict(type='Recognizer3D', num_classes=3, dropout=0.0,
            backbone=dict(type='ResNet3d', depth=18, base_channels=8, zero_init_residual=False))
HEADLESS = {k: v for k, v in TINY.items() if k not in ('num_classes', 'dropout')}  # for cls_head=... forms


def test_i3d_config_is_mmaction2s_i3d_r50():
    cfg = Config.fromfile(str(REPO / 'configs/_base_/models/i3d_r50.py'))
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == 28_043_472  # mmaction2's metafile for i3d_r50
    assert model.head.fc.in_features == 2048


@torch.no_grad()
def test_multi_clip_input_is_averaged_per_video():
    model = MODELS.build(TINY).eval()
    videos = torch.randn(2, 3, 3, 4, 32, 32)  # 2 videos x 3 clips
    per_clip = torch.stack([model(videos[:, c]) for c in range(3)], dim=1)  # logits (2, 3 clips, 3 classes)
    torch.testing.assert_close(model(videos), per_clip.mean(dim=1))
    scores = torch.stack([p['pred_score'] for p in model(videos, [0, 2], mode='predict')])
    torch.testing.assert_close(scores, per_clip.softmax(dim=2).mean(dim=1))
    model.average_clips = 'score'
    scores = torch.stack([p['pred_score'] for p in model(videos, mode='predict')])
    torch.testing.assert_close(scores, per_clip.mean(dim=1))


def test_loss_counts_every_clip_with_its_videos_label():
    model = MODELS.build(TINY).eval()
    videos, labels = torch.randn(2, 3, 3, 4, 32, 32), [1, 2]
    loss = model(videos, labels, mode='loss')['loss']
    logits = model.head(model.extract_feat(videos.flatten(0, 1)))
    torch.testing.assert_close(loss, F.cross_entropy(logits, torch.tensor([1, 1, 1, 2, 2, 2])))


@pytest.mark.parametrize('model, samples, named', [
    (TINY, [dict(gt_label=1, filename='a.mp4'), dict(gt_label=7, filename='jump/b.mp4')], 'Recognizer3D: jump/b.mp4'),
    (TINY, dict(gt_label=[3, 0], frame_dir=['frames/c', 'frames/d']), 'Recognizer3D: frames/c'),
    (dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18, base_channels=8),
          cls_head=dict(type='TSNHead', num_classes=3, dropout_ratio=0.0)),
     [dict(gt_label=-1), dict(gt_label=0)], 'Recognizer2D: sample 0 of the batch'),
])
def test_a_label_past_the_classes_names_its_video(model, samples, named):
    """mmaction2's configs do not give the dataset num_classes, so the model, which knows it, names the video
    (cross-entropy would fail with a bare index error)."""
    videos = torch.randn(2, 1, 3, 4, 32, 32) if model is TINY else torch.randn(2, 4, 3, 32, 32)
    with pytest.raises(ValueError, match=f'{named} has label -?[0-9]+, not a class in \\[0, 3\\) '
                                         r'\(num_classes=3 in the model; 1 such in this batch\)'):
        MODELS.build(model)(videos, samples, mode='loss')


@torch.no_grad()
def test_mmaction2_recognizer_checkpoint_loads_backbone_and_classifier(randomise):
    source, target = randomise(MODELS.build(TINY)), MODELS.build(TINY).eval()
    state = {to_mmaction2_keys(k): v for k, v in source.state_dict().items()}
    assert 'cls_head.fc_cls.weight' in state and 'backbone.layer2.0.downsample.conv.weight' in state
    report = load_pretrained(target, {'state_dict': state, 'meta': {}}, strict=True)
    assert report.source == 'mmaction2' and not report.missing and not report.unexpected
    clip = torch.randn(1, 3, 4, 32, 32)
    torch.testing.assert_close(target(clip), source(clip))


def _moving_squares(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """8-frame clips of a bright 6 px square crossing the frame rightwards (label 0) or leftwards (1), 3 px a frame.
    Both sweep the same columns, so a frame average cannot tell them apart: only the order of the frames can."""
    labels = torch.randint(0, 2, (n,), generator=generator)
    clips = 0.1 * torch.randn(n, 1, 8, 32, 32, generator=generator)
    for i, label in enumerate(labels.tolist()):
        y, shift = (int(torch.randint(0, high, (1,), generator=generator)) for high in (26, 6))
        for t in range(8):
            x = shift + 3 * t if label == 0 else 26 - shift - 3 * t
            clips[i, 0, t, y:y + 6, x:x + 6] += 1.0
    return clips, labels


# The same network without temporal kernels (a 2D model per frame, averaged over time) is the control: it must
# stay near chance, which shows the clips really need the order of frames.
@pytest.mark.parametrize('temporal, accuracy_range', [
    (dict(), (0.9, 1.0)),
    (dict(inflate=(0, 0, 0, 0), conv1_kernel=(1, 7, 7), with_pool2=False), (0.0, 0.7)),
])
def test_learns_motion_direction_only_with_temporal_kernels(temporal, accuracy_range):
    gen = torch.Generator().manual_seed(0)
    backbone = {**TINY['backbone'], 'in_channels': 1, **temporal}
    model = MODELS.build({**TINY, 'num_classes': 2, 'backbone': backbone})
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for _ in range(40):
        clips, labels = _moving_squares(16, gen)
        loss = model(clips, labels, mode='loss')['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    clips, labels = _moving_squares(64, gen)
    preds = torch.tensor([p['pred_label'] for p in model.eval()(clips, mode='predict')])
    low, high = accuracy_range
    assert low <= (preds == labels).float().mean() <= high


@pytest.mark.parametrize('kwargs, inputs, message', [
    (dict(average_clips='max'), None, 'average_clips must be one of'),
    ({}, torch.randn(2, 3, 32, 32), r'takes \(N, C, T, H, W\) clips or \(N, clips, C, T, H, W\); got shape'),
])
def test_bad_settings_and_inputs_are_named(kwargs, inputs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build({**TINY, **kwargs})(inputs)


MMACTION2_I3D_HEAD = dict(type='I3DHead', num_classes=3, in_channels=64, spatial_type='avg', dropout_ratio=0.3,
                          init_std=0.01, average_clips='score')


def test_mmaction2s_cls_head_form_builds_the_same_classifier():
    ours = MODELS.build({**HEADLESS, 'cls_head': MMACTION2_I3D_HEAD, 'train_cfg': None,
                         'test_cfg': None})
    plain = MODELS.build(TINY)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [(k, v.shape) for k, v in plain.state_dict().items()]
    assert ours.head.dropout.p == 0.3 and ours.average_clips == 'score'
    fc = MODELS.build(dict(HEADLESS, backbone=dict(TINY['backbone'], base_channels=64),
                           cls_head=dict(MMACTION2_I3D_HEAD, in_channels=512, num_classes=400))).head.fc
    assert 0.008 < fc.weight.std() < 0.012 and fc.bias.abs().max() == 0  # mmaction2's normal_init(std=0.01)


@pytest.mark.parametrize('change, message', [
    (dict(num_classes=3, cls_head=MMACTION2_I3D_HEAD), r'give num_classes inside cls_head \(mmaction2: '
                                                       r'dropout_ratio for dropout\) or beside it, not both'),
    # cls_head's settings (or mmaction2's defaults) replaced these without a word: softmax on multi-hot labels
    (dict(average_clips='score', multi_class=True, dropout=0.9, cls_head=MMACTION2_I3D_HEAD),
     'give dropout, average_clips, multi_class inside cls_head'),
    (dict(num_classes=None), 'needs num_classes'),
    (dict(num_classes=None, cls_head=dict(MMACTION2_I3D_HEAD, type='TSNHead')), "cls_head must be dict"),
    (dict(num_classes=None, cls_head=dict(MMACTION2_I3D_HEAD, in_channels=99)), 'in_channels=99 but the backbone'),
    (dict(num_classes=None, cls_head=dict(MMACTION2_I3D_HEAD, fcn_test=True)), r"\['fcn_test'\], which I3DHead"),
    (dict(num_classes=None, cls_head=dict(MMACTION2_I3D_HEAD, spatial_type='max')), "only spatial_type='avg'"),
    (dict(test_cfg=dict(fcn_test=True, average_clips='prob')),
     r"test_cfg options \['average_clips'\] are not supported"),
])
def test_bad_mmaction2_head_arguments_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build({**(HEADLESS if 'cls_head' in change else TINY), **change})


@pytest.mark.parametrize('form', [dict(num_classes=3, multi_class=True),
                                  dict(cls_head=dict(MMACTION2_I3D_HEAD, dropout_ratio=0.0, average_clips='prob',
                                                     multi_class=True, loss_cls=dict(type='BCELossWithLogits')))])
@torch.no_grad()
def test_multi_label_recognizer_trains_with_bce_and_scores_with_sigmoids(form):
    model = MODELS.build({**HEADLESS, **form}).eval()
    videos = torch.randn(2, 2, 3, 4, 32, 32)  # 2 videos x 2 clips
    targets = torch.tensor([[1., 0., 1.], [0., 1., 0.]])
    samples = [dict(gt_label=t) for t in targets]
    logits = model.head(model.extract_feat(videos.flatten(0, 1)))  # (4 clips, 3)
    loss = model(videos, samples, mode='loss')['loss']
    torch.testing.assert_close(loss, F.binary_cross_entropy_with_logits(logits, targets.repeat_interleave(2, 0)))
    preds = model(videos, samples, mode='predict')
    torch.testing.assert_close(preds[0]['pred_score'], logits[:2].sigmoid().mean(0))
    torch.testing.assert_close(preds[1]['gt_label'], targets[1])
    with pytest.raises(ValueError, match=r'multi-hot labels of num_classes=3 per sample; got shape \(1,\)'):
        model(videos, [0, 1], mode='loss')
    # label smoothing of multi-hot targets, as mmaction2's heads: it was ignored (the same loss for every eps)
    model.label_smoothing = 0.2
    smoothed = targets.repeat_interleave(2, 0) * 0.8 + 0.2 / 3
    torch.testing.assert_close(model(videos, samples, mode='loss')['loss'],
                               F.binary_cross_entropy_with_logits(logits, smoothed))


@pytest.mark.parametrize('head, message', [
    (dict(multi_class=True), "loss_cls must be dict\\(type='BCELossWithLogits'\\) with multi_class=True"),
    (dict(loss_cls=dict(type='BCELossWithLogits')), "must be dict\\(type='CrossEntropyLoss'\\) with multi_class=False"),
])
def test_multi_label_needs_both_of_mmaction2s_settings(head, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build({**HEADLESS, 'cls_head': dict(MMACTION2_I3D_HEAD, **head)})
