"""Recognizer2D + TSNHead: segments through a 2D backbone, average consensus, mmaction2 checkpoints; I3DHead."""

import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
from mmaction2_reference import to_mmaction2_keys  # noqa: E402

TSN = dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18, base_channels=8),
           cls_head=dict(type='TSNHead', num_classes=4, dropout_ratio=0.0, average_clips='prob'))


@torch.no_grad()
def test_consensus_averages_frame_features_and_ignores_order(randomise):
    model = randomise(MODELS.build(TSN))
    videos = torch.randn(2, 8, 3, 32, 32)
    logits = model(videos)
    feats = model.backbone(videos.flatten(0, 1))[-1].mean(dim=(2, 3)).view(2, 8, -1).mean(1)
    torch.testing.assert_close(logits, model.head.fc(feats))
    torch.testing.assert_close(model(videos[:, torch.randperm(8)]), logits)  # permutation-invariant by construction
    preds = model(videos, [1, 3], mode='predict')
    torch.testing.assert_close(preds[0]['pred_score'], logits[0].softmax(0))
    assert preds[1]['gt_label'] == 3


def test_loss_and_head_init():
    model = MODELS.build(TSN)
    assert model.head.fc.in_features == 512 // 8 and model.head.fc.bias.abs().max() == 0
    assert 0.005 < model.head.fc.weight.std() < 0.02  # mmaction2's normal_init(std=0.01)
    videos = torch.randn(2, 3, 3, 32, 32)
    loss = model(videos, [0, 1], mode='loss')['loss']
    torch.testing.assert_close(loss, F.cross_entropy(model(videos), torch.tensor([0, 1])))


@torch.no_grad()
def test_mmaction2_tsn_checkpoint_loads(randomise):
    source, target = randomise(MODELS.build(TSN)), MODELS.build(TSN).eval()
    state = {to_mmaction2_keys(k): v for k, v in source.state_dict().items()}
    assert 'cls_head.fc_cls.weight' in state and 'backbone.layer1.0.conv1.conv.weight' in state
    report = load_pretrained(target, {'state_dict': state, 'meta': {}}, strict=True)
    assert report.source == 'mmaction2' and not report.missing and not report.unexpected
    videos = torch.randn(1, 8, 3, 32, 32)
    torch.testing.assert_close(target(videos), source(videos))


@torch.no_grad()
def test_i3d_head_averages_over_time_and_space():
    head = MODELS.build(dict(type='I3DHead', num_classes=3, in_channels=6, dropout_ratio=0.0)).eval()
    x = torch.randn(2, 6, 2, 3, 3)
    torch.testing.assert_close(head(x), head.fc(x.mean(dim=(2, 3, 4))))


@pytest.mark.parametrize('change, message', [
    (dict(cls_head=dict(type='TSNHead', num_classes=4, in_channels=99)), 'in_channels=99 but the backbone'),
    (dict(cls_head=dict(type='TSNHead', num_classes=4, average_clips='max')), 'average_clips must be one of'),
    (dict(cls_head=dict(type='TSNHead', num_classes=4, consensus=dict(type='MaxConsensus'))), 'AvgConsensus'),
    (dict(cls_head=dict(type='TSNHead', num_classes=0)), 'num_classes must be an integer >= 1'),
])
def test_bad_config(change, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build({**TSN, **change})


def test_bad_input_shape():
    with pytest.raises(ValueError, match=r'takes \(N, frames, C, H, W\)'):
        MODELS.build(TSN)(torch.randn(2, 3, 32, 32))


@pytest.mark.parametrize('kind', ['lstm', 'transformer'])
@torch.no_grad()
def test_a_temporal_head_in_place_of_consensus_sees_frame_order(kind, randomise):
    cfg = dict(TSN, cls_head=dict(type='TemporalHead', num_classes=4, num_segments=8, kind=kind, hidden_channels=16))
    model = randomise(MODELS.build(cfg))
    assert model.head.fc.out_features == 4  # in_channels came from the backbone's specs
    videos = torch.randn(2, 8, 3, 32, 32)
    logits = model(videos)
    assert logits.shape == (2, 4)
    assert not torch.allclose(model(videos.flip(1)), logits, atol=1e-4)  # unlike TSN's average consensus
