"""TPN: mmaction2's Temporal Pyramid Network neck and its auxiliary head inside Recognizer3D."""
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from resbackbones.necks.tpn_parts import LevelFusion
from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained
from resbackbones.weights.task_checkpoint import load_task_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

BACKBONE = dict(type='ResNet3dSlowOnly', depth=50, base_channels=8, stage_blocks=(1, 1, 1, 1), out_indices=(2, 3))


def _neck(flow_type='cascade', **changes):
    """mmaction2's tpn_slowonly_r50 neck at a width of 1/8 (levels of 128 and 256 channels)."""
    return dict(dict(type='TPN', in_channels=(128, 256), out_channels=64,
                     spatial_modulation_cfg=dict(in_channels=(128, 256), out_channels=256),
                     temporal_modulation_cfg=dict(downsample_scales=(8, 8)), upsample_cfg=dict(scale_factor=(1, 1, 1)),
                     downsample_cfg=dict(downsample_scale=(1, 1, 1)),
                     level_fusion_cfg=dict(in_channels=(64, 64), mid_channels=(64, 64), out_channels=128,
                                           downsample_scales=((1, 1, 1), (1, 1, 1))),
                     aux_head_cfg=dict(out_channels=5, loss_weight=0.5), flow_type=flow_type), **changes)


def _recognizer(**changes):
    cfg = dict(type='Recognizer3D', backbone=BACKBONE, neck=_neck(),
               cls_head=dict(type='TPNHead', num_classes=5, in_channels=2048,
                             consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.5, average_clips='prob'),
               test_cfg=dict(fcn_test=True))
    return MODELS.build({**cfg, **changes})


@pytest.mark.parametrize('flow', ['cascade', 'parallel'])
@torch.no_grad()
def test_mmaction2_tpn_checkpoint_gives_its_scores_and_aux_loss(tmp_path, randomise, flow):
    source = randomise(_recognizer(neck=_neck(flow)))
    neck = randomise(ref.TPN((128, 256), 64, 256, 128, (8, 8), 5, flow), seed=2)
    fc = randomise(torch.nn.Linear(2048, 5), seed=3)
    state = {f'backbone.{k}': v for k, v in source.backbone.state_dict().items()}
    state.update({f'neck.{k}': v for k, v in neck.state_dict().items()})
    state.update({'cls_head.fc_cls.weight': fc.weight, 'cls_head.fc_cls.bias': fc.bias})
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'tpn.pth')
    model = _recognizer(neck=_neck(flow))
    report = load_pretrained(model, str(tmp_path / 'tpn.pth'), strict=True)
    assert report.source == 'mmaction2' and not report.missing and not report.unexpected and not report.ignored
    clip = torch.rand(2, 3, 8, 64, 64)
    fused, aux = neck(model.eval().backbone(clip))
    assert fused.shape == (2, 2048, 1, 2, 2)  # temporal modulation pools 8 frames to 1
    torch.testing.assert_close(model.tensor(clip), fc(fused.mean(dim=(2, 3, 4))), rtol=1e-4, atol=1e-4)
    labels = [dict(gt_label=torch.tensor(1)), dict(gt_label=torch.tensor(4))]
    losses = model.loss(clip, labels)  # eval mode: no dropout, so the aux logits are the reference's
    torch.testing.assert_close(losses['loss_aux'], 0.5 * F.cross_entropy(aux, torch.tensor([1, 4])))


def test_training_adds_the_weighted_aux_loss_and_trains_the_aux_head():
    model = _recognizer().train()
    losses = model.loss(torch.rand(2, 3, 8, 64, 64), [dict(gt_label=torch.tensor(0)), dict(gt_label=torch.tensor(3))])
    assert set(losses) == {'loss', 'loss_aux'}
    (losses['loss'] + losses['loss_aux']).backward()
    assert model.neck.aux_head.fc.weight.grad.abs().sum() > 0
    assert model.neck.pyramid_fusion.conv.weight.grad.abs().sum() > 0


def test_a_checkpoint_with_a_neck_loads_into_a_model_without_one(tmp_path, randomise):
    model = randomise(_recognizer())
    torch.save({'state_dict': {k.replace('head.fc.', 'cls_head.fc_cls.'): v for k, v in model.state_dict().items()},
                'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'tpn.pth')
    plain = MODELS.build(dict(type='Recognizer3D', backbone=BACKBONE, num_classes=5))
    report = load_pretrained(plain, str(tmp_path / 'tpn.pth'))
    assert report.ignored and all(why == 'neck: the model has none' for _, why in report.ignored)


@pytest.mark.parametrize('changes, message', [
    (dict(neck=_neck(in_channels=(64, 256))), r"must be the channels of the backbone's outputs \(128, 256\)"),
    (dict(backbone=dict(BACKBONE, out_indices=(3,)), neck=_neck(in_channels=(256,))), 'at least two'),
    (dict(neck=dict(type='FPN')), "neck must be mmaction2's dict\\(type='TPN'"),
    (dict(neck=_neck(flow_type='diagonal')), 'flow_type must be one of'),
    (dict(neck=_neck(temporal_modulation_cfg=dict(downsample_scales=(8,)))), 'one entry per level'),
    (dict(test_cfg=dict(fcn_test=True, three_crop=True)), r"test_cfg options \['three_crop'\]"),
    (dict(backbone=dict(BACKBONE, spatial_strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2))),
     r'levels would meet at different sizes \(layer3: /32 in space, /8 in time, layer4: /16 in space'),
    (dict(neck=_neck(temporal_modulation_cfg=dict(downsample_scales=(4, 8)))),
     r'layer3: /32 in space, /4 in time, layer4: /32 in space, /8 in time'),
])
def test_bad_tpn_settings_name_themselves(changes, message):
    with pytest.raises(ValueError, match=message):
        _recognizer(**changes)


def test_level_fusion_of_three_levels_defaults_to_no_downsampling_on_each():
    # mmaction2's default downsample_scales holds two entries: zip built two branches for three levels and the
    # fusion conv then failed on its channel count
    fusion = LevelFusion(in_channels=(32,) * 3, mid_channels=(32,) * 3, out_channels=64)
    assert len(fusion.downsamples) == 3
    assert fusion([torch.randn(1, 32, 2, 4, 4)] * 3).shape == (1, 64, 2, 4, 4)
    with pytest.raises(ValueError, match='one entry per level; got 3, 3 and 2'):
        LevelFusion(in_channels=(32,) * 3, mid_channels=(32,) * 3, out_channels=64,
                    downsample_scales=((1, 1, 1), (1, 1, 1)))


def test_multi_label_data_cannot_feed_the_aux_cross_entropy():
    with pytest.raises(ValueError, match='aux_head_cfg needs single-label data'):
        MODELS.build(dict(type='Recognizer3D', backbone=BACKBONE, neck=_neck(), num_classes=5, multi_class=True))


TSM = dict(type='ResNetTSM', depth=50, base_channels=8, stage_blocks=(1, 1, 1, 1), num_segments=4, out_indices=(2, 3))


def _tpn_tsm(**changes):
    return MODELS.build({**dict(type='Recognizer2D', backbone=TSM, neck=_neck(temporal_modulation_cfg=dict(
        downsample_scales=(4, 4))), cls_head=dict(type='TPNHead', num_classes=5, dropout_ratio=0.5),
        test_cfg=dict(fcn_test=True, max_testing_views=4)), **changes})


@torch.no_grad()
def test_tpn_tsm_scores_each_clip_of_num_segments_frames(tmp_path, randomise):
    source = randomise(_tpn_tsm())
    neck = randomise(ref.TPN((128, 256), 64, 256, 128, (4, 4), 5), seed=2)
    fc = randomise(torch.nn.Linear(2048, 5), seed=3)
    state = {f'backbone.{k}': v for k, v in source.backbone.state_dict().items()}
    state.update({f'neck.{k}': v for k, v in neck.state_dict().items()})
    state.update({'cls_head.fc_cls.weight': fc.weight, 'cls_head.fc_cls.bias': fc.bias})
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'tpn_tsm.pth')
    model = _tpn_tsm()
    assert not load_pretrained(model, str(tmp_path / 'tpn_tsm.pth'), strict=True).missing
    video = torch.rand(1, 8, 3, 64, 64)  # two clips of 4 segments, one pass each (max_testing_views=4)
    logits, clips = model.eval().clip_logits(video)
    # mmaction2's Recognizer2D: each clip's frames along time, (clips, C, 4, h, w), into the neck
    levels = [x.view(2, 4, *x.shape[1:]).transpose(1, 2) for x in model.backbone(video.flatten(0, 1))]
    fused, aux = neck(levels)
    assert clips == 2
    torch.testing.assert_close(logits, fc(fused.mean(dim=(2, 3, 4))), rtol=1e-4, atol=1e-4)
    losses = model.loss(video[:, :4], [dict(gt_label=torch.tensor(2))])
    torch.testing.assert_close(losses['loss_aux'], 0.5 * F.cross_entropy(aux[:1], torch.tensor([2])))


@pytest.mark.parametrize('changes', [dict(cls_head=dict(type='TSNHead', num_classes=5)),
                                    dict(neck=None, test_cfg=None)])
def test_recognizer2d_pairs_the_tpn_neck_with_tpnhead(changes):
    with pytest.raises(ValueError, match='a TPN neck goes with TPNHead, and TPNHead with a TPN neck'):
        _tpn_tsm(**changes)


def test_a_chunk_that_cuts_a_clip_is_named():
    # over a plain ResNet a clip is all of a video's frames: 6 views of a 4-frame video failed in a reshape
    plain = dict(type='ResNet', depth=50, base_channels=8, stage_blocks=(1, 1, 1, 1), out_indices=(2, 3))
    model = _tpn_tsm(backbone=plain, test_cfg=dict(fcn_test=True, max_testing_views=6)).eval()
    with pytest.raises(ValueError, match='max_testing_views=6 must be a multiple of the 4 frames of a clip'):
        model.clip_logits(torch.rand(1, 4, 3, 64, 64))


@pytest.mark.parametrize('container', ['bare', 'mmengine'])
def test_our_own_tpn_recognizer_file_loads_whole_neck_included(tmp_path, randomise, container):
    # its 'neck.' keys made it an mmdet detector's file: neck and head.fc stayed random, and no key was missing
    source = randomise(_recognizer())
    state = source.state_dict()
    torch.save(state if container == 'bare' else {'state_dict': state, 'meta': {'epoch': 3}}, tmp_path / 'own.pth')
    model = _recognizer()
    report = load_pretrained(model, str(tmp_path / 'own.pth'), strict=True)
    assert report.source in ('native', 'mmpretrain') and not report.untouched and not report.missing
    assert all(torch.equal(value, state[key]) for key, value in model.state_dict().items())


def test_a_whole_model_load_refuses_a_file_without_the_models_neck(tmp_path, randomise):
    plain = randomise(MODELS.build(dict(type='Recognizer3D', backbone=BACKBONE, num_classes=5)))
    state = {k.replace('head.fc.', 'cls_head.fc_cls.'): v for k, v in plain.state_dict().items()}
    state['cls_head.fc_cls.weight'] = torch.randn(5, 2048)  # TPNHead's input width
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'slowonly.pth')
    model = _recognizer()
    before = model.state_dict()
    report = load_pretrained(model, str(tmp_path / 'slowonly.pth'))  # fine-tuning from it: the neck is reported
    assert report.untouched and all(key.startswith('neck.') for key in report.untouched)
    assert 'not in the file' in str(report)
    model = _recognizer()
    model.load_state_dict(before)
    with pytest.raises(ValueError, match=r'only in part: missing \[.neck\.'):  # a test of a model with a random neck
        load_task_checkpoint(model, tmp_path / 'slowonly.pth')
    assert all(torch.equal(value, before[key]) for key, value in model.state_dict().items())
