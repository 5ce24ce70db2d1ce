"""Recognizer2D + TSNHead / TSMHead: segments through a 2D backbone, consensus, multi-clip averaging, mmaction2
checkpoints; I3DHead."""

import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402
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

TSM = dict(type='Recognizer2D', backbone=dict(type='ResNetTSM', depth=50, base_channels=8, stage_blocks=(1, 2, 2, 1),
                                              num_segments=4),
           cls_head=dict(type='TSMHead', num_classes=5, num_segments=4, dropout_ratio=0.0, average_clips='prob'))


@torch.no_grad()
def test_tsm_averages_a_videos_clips_as_average_clips_says(randomise):
    model = randomise(MODELS.build(TSM)).eval()
    videos = torch.randn(2, 3 * 4, 3, 32, 32)  # 2 videos x 3 clips of 4 segments (a multi-clip test pipeline)
    per_clip = torch.stack([model(videos[:, 4 * c:4 * c + 4]) for c in range(3)], dim=1)  # (2, 3, 5)
    torch.testing.assert_close(model(videos), per_clip.mean(dim=1))
    scores = torch.stack([p['pred_score'] for p in model(videos, mode='predict')])
    torch.testing.assert_close(scores, per_clip.softmax(dim=2).mean(dim=1))
    assert not torch.allclose(model(videos[:, :4].flip(1)), per_clip[:, 0], atol=1e-4)  # the shift sees frame order
    loss = model(videos, [1, 4], mode='loss')['loss']  # every clip a sample of its video's label
    torch.testing.assert_close(loss, F.cross_entropy(per_clip.flatten(0, 1), torch.tensor([1, 1, 1, 4, 4, 4])))


@torch.no_grad()
def test_mmaction2_tsm_recognizer_checkpoint_gives_its_scores(tmp_path, randomise):
    theirs = randomise(ref.ResNetTSM((1, 2, 2, 1), base_channels=8, num_segments=4)).eval()
    fc = randomise(torch.nn.Linear(256, 5))
    state = {**{f'backbone.{k}': v for k, v in theirs.state_dict().items()},
             'cls_head.fc_cls.weight': fc.weight, 'cls_head.fc_cls.bias': fc.bias}
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'tsm.pth')
    ours = MODELS.build(TSM)
    report = load_pretrained(ours, str(tmp_path / 'tsm.pth'), strict=True)
    assert report.source == 'mmaction2' and not report.missing and not report.unexpected
    videos = torch.rand(2, 4, 3, 64, 64)
    frame_scores = fc(theirs(videos.flatten(0, 1)).mean(dim=(2, 3)))  # mmaction2's TSMHead: fc per frame, then mean
    torch.testing.assert_close(ours.eval()(videos), frame_scores.view(2, 4, 5).mean(dim=1), rtol=1e-4, atol=1e-4)


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


def test_frames_that_do_not_fill_the_backbones_segments_are_refused():
    """6 frames on a num_segments=4 TSM backbone under a TSNHead: a shift group straddled two videos, so a
    video's scores changed with its batch neighbour."""
    model = MODELS.build(dict(type='Recognizer2D', backbone=dict(type='ResNetTSM', depth=18, base_channels=8,
                                                                 num_segments=4),
                              cls_head=dict(type='TSNHead', num_classes=5, in_channels=64))).eval()
    with pytest.raises(ValueError, match=r"6 frames per video do not split into clips of the backbone's "
                                         r'num_segments=4'):
        model(torch.randn(2, 6, 3, 32, 32), mode='tensor')
    assert model(torch.randn(2, 8, 3, 32, 32), mode='tensor').shape == (2, 5)


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
