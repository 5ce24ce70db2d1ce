"""SingleRoIExtractor3D, ACRNHead and their channel checks in AVARoIHead."""
import pytest
import torch
from torchvision.ops import roi_align

from resbackbones.models.action_detection import ACRNHead, AVARoIHead, SingleRoIExtractor3D
from resbackbones.structures import FeatureSpec

ROIS = torch.tensor([[0., 8., 8., 40., 56.], [1., 0., 0., 63., 63.], [0., 16., 4., 30., 20.]])


def _extractor(specs, **kwargs) -> SingleRoIExtractor3D:
    ext = SingleRoIExtractor3D(output_size=4, **kwargs)
    ext.bind(specs)
    return ext


@pytest.mark.parametrize('mode', ['avg', 'max'])
def test_rois_are_cut_from_the_time_pooled_map_at_the_declared_stride(mode):
    feat = torch.randn(2, 3, 4, 8, 8)
    crops, pooled = _extractor([FeatureSpec('layer4', 3, 8)], temporal_pool_mode=mode)(feat, ROIS)
    frame = feat.mean(2) if mode == 'avg' else feat.amax(2)
    assert crops.shape == (3, 3, 1, 4, 4) and pooled.shape == (2, 3, 1, 8, 8)
    assert torch.allclose(crops[:, :, 0], roi_align(frame, ROIS, 4, 1 / 8, 0, True))


def test_two_pathways_meet_at_the_longer_length_and_concatenate():
    slow, fast = torch.randn(1, 2, 2, 8, 8), torch.randn(1, 3, 8, 8, 8)
    ext = _extractor([FeatureSpec('slow', 2, 8), FeatureSpec('fast', 3, 8)], with_temporal_pool=False)
    crops, _ = ext((slow, fast), ROIS[:1])
    assert crops.shape == (1, 5, 8, 4, 4)
    # nearest upsampling repeats each slow step 4 times: the slow channels at t=0..3 are all slow[t=0]
    assert torch.allclose(crops[:, :2, 0], crops[:, :2, 3]) and torch.allclose(
        crops[:, 2:, 5], roi_align(fast[:, :, 5], ROIS[:1], 4, 1 / 8, 0, True))


def test_with_global_appends_the_pooled_frame_of_each_rois_clip():
    feat = torch.randn(2, 3, 1, 8, 8)
    crops, _ = _extractor([FeatureSpec('layer4', 3, 8)], with_global=True)(feat, ROIS)
    assert crops.shape == (3, 6, 1, 4, 4)
    assert torch.allclose(crops[1, 3:, 0], torch.nn.functional.adaptive_avg_pool2d(feat[1, :, 0], 4))


@pytest.mark.parametrize('kwargs, specs, message', [
    (dict(featmap_stride=32), [FeatureSpec('layer4', 3, 16)], 'featmap_stride=32, but the backbone declares stride 16'),
    (dict(roi_layer_type='RoIPool'), [FeatureSpec('layer4', 3, 16)], "roi_layer_type must be one of \\('RoIAlign',\\)"),
    ({}, [FeatureSpec('a', 3, 16), FeatureSpec('b', 3, 32)], 'strides \\[16, 32\\]'),
])
def test_extractor_refuses_what_it_cannot_do_exactly(kwargs, specs, message):
    with pytest.raises(ValueError, match=message):
        SingleRoIExtractor3D(**kwargs).bind(specs)


def test_acrn_relates_each_actor_to_every_position_of_its_frame():
    torch.manual_seed(0)
    head = ACRNHead(in_channels=6, out_channels=5, num_convs=2).eval()
    roi_feats, feat = torch.randn(3, 3, 1, 4, 4), torch.randn(2, 3, 1, 8, 8)
    out = head(roi_feats, feat, ROIS)
    assert out.shape == (3, 5, 1, 8, 8)
    other = feat.clone()
    other[1] += 1  # only clip 1's frame changes: only the RoI of clip 1 sees it
    changed = (head(roi_feats, other, ROIS) - out).abs().flatten(1).amax(1)
    assert changed[1] > 0 and changed[0] == 0 and changed[2] == 0
    assert {k.rsplit('.', 1)[0] for k in head.state_dict()} >= {'conv1.conv', 'conv1.bn', 'conv2.conv', 'convs.0.bn'}


@pytest.mark.parametrize('head, message', [
    (dict(bbox_head=dict(in_channels=7)), 'bbox_head.in_channels=7, but its input has 6 channels'),
    (dict(shared_head=dict(type='ACRNHead', in_channels=6, out_channels=4)), 'shared_head.in_channels=6, but the RoI'),
    (dict(bbox_roi_extractor=dict(type='RoIExtractor')), "bbox_roi_extractor: type must be one of"),
])
def test_roi_head_checks_channels_along_the_chain(head, message):
    cfg = dict(bbox_roi_extractor=dict(type='SingleRoIExtractor3D', with_global=True),
               bbox_head=dict(type='BBoxHeadAVA', background_class=True, in_channels=6, num_classes=8))
    for key, value in head.items():
        cfg[key] = {**cfg.get(key, {}), **value}
    with pytest.raises(ValueError, match=message):
        AVARoIHead(**cfg).bind([FeatureSpec('layer4', 3, 16)])
