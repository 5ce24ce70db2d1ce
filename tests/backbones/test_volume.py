"""VolumeResNet: the feature contract on odd volumes (real shapes vs specs), its arguments, and 2D inflation.

The contract is checked here rather than in test_contract.py's VARIANTS (edited elsewhere); same rule: every output
has the channels, in-plane size and depth its spec declares, for sizes that no stride divides.
"""
from __future__ import annotations

import pytest
import torch
import torchvision

from resbackbones.backbones.volume import depth_output_size, depth_stride
from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

D, H, W = 13, 37, 29  # odd on purpose

VARIANTS = [
    dict(depth=18),
    dict(depth=34, in_channels=3),
    dict(depth=50),
    dict(depth=18, depth_strides=(1, 1, 2, 2), depth_kernels=(1, 1, 3, 3)),  # thick slices
    dict(depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4)),  # MedicalNet's segmentation layout
    dict(depth=18, stem_depth_stride=1, pool_depth_stride=1),  # depth kept by the stem
    dict(depth=18, small_stem=True),
    dict(depth=18, small_stem=True, stem_pool_stride=2),  # an explicit pool is kept
    dict(depth=18, num_stages=3, out_indices=(0, 2), avg_down=True, deep_stem=True),
    dict(depth=18, norm_cfg=dict(type='GN', num_groups=4)),
]


@pytest.mark.parametrize('cfg', VARIANTS, ids=lambda c: '-'.join(f'{k}={v}' for k, v in c.items())[:60])
@torch.no_grad()
def test_volume_outputs_match_their_specs(cfg):
    model = MODELS.build(dict(type='VolumeResNet', base_channels=8, **cfg)).eval()
    x = torch.randn(1, cfg.get('in_channels', 1), D, H, W)
    outs = model(x)
    assert len(outs) == len(model.feature_specs)
    for out, spec in zip(outs, model.feature_specs):
        assert out.shape[1] == spec.channels, spec
        assert tuple(out.shape[2:]) == (depth_output_size(spec, D), spec.output_size(H), spec.output_size(W)), spec


def test_depth_strides_follow_the_arguments():
    iso = MODELS.build(dict(type='VolumeResNet', depth=18, base_channels=8))
    thick = MODELS.build(dict(type='VolumeResNet', depth=18, base_channels=8, depth_strides=(1, 1, 2, 2),
                              depth_kernels=(1, 1, 3, 3), stem_depth_stride=1, pool_depth_stride=1))
    assert [depth_stride(s) for s in iso.feature_specs] == [2, 4, 8, 16, 32]
    assert [s.stride for s in thick.feature_specs] == [2, 4, 8, 16, 32]
    assert [depth_stride(s) for s in thick.feature_specs] == [1, 1, 1, 2, 4]
    assert thick.layer1[0].conv1.kernel_size == (1, 3, 3) and thick.layer3[0].conv1.kernel_size == (3, 3, 3)
    assert iso.conv1.kernel_size == (7, 7, 7) and iso.maxpool.kernel_size == (3, 3, 3)
    small = MODELS.build(dict(type='VolumeResNet', depth=18, base_channels=8, small_stem=True, stem_pool_stride=2))
    assert [depth_stride(s) for s in small.feature_specs] == [s.stride for s in small.feature_specs] == [1, 2, 4, 8, 16]


def test_dilation_is_isotropic_for_cubic_kernels():
    model = MODELS.build(dict(type='VolumeResNet', depth=18, base_channels=8, strides=(1, 2, 1, 1),
                              dilations=(1, 1, 2, 4)))
    assert model.layer4[1].conv2.dilation == (4, 4, 4) and model.layer4[1].conv2.padding == (4, 4, 4)


@pytest.mark.parametrize('kwargs, message', [
    (dict(depth_kernels=(3, 5, 3, 3)), 'depth_kernels must be one of'),
    (dict(depth_strides=(1, 2)), 'depth_strides needs one entry per stage'),
    (dict(stem_depth_kernel=4), 'stem_depth_kernel must be an odd'),
    (dict(temporal=None), 'does not take temporal'),
    (dict(depth=20), 'depth must be one of'),
    # no stem max-pool: the depth stride was ignored without a word
    (dict(small_stem=True, pool_depth_stride=2), 'pool_depth_stride=2 needs the stem max-pool, which small_stem'),
    (dict(stem_pool_stride=None, pool_depth_stride=2), 'which stem_pool_stride=None removes'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(dict(type='VolumeResNet', depth=18), **kwargs))


@pytest.mark.parametrize('in_channels', [1, 3])
@torch.no_grad()
def test_torchvision_weights_inflate_into_3x3x3_and_7x7x7(tmp_path, randomise, in_channels):
    """I3D's property in 3D: an inflated encoder on a volume of identical slices gives the 2D network's features on
    the slice, at depths the zero padding cannot reach (here the centre of a deep volume after layer1)."""
    tv = randomise(torchvision.models.resnet18())
    path = tmp_path / 'r18.pth'
    torch.save(tv.state_dict(), path)
    vol = MODELS.build(dict(type='VolumeResNet', depth=18, in_channels=in_channels, out_indices=(0,),
                            init_cfg=dict(type='Pretrained', checkpoint=str(path)))).eval()
    report = load_pretrained(vol, str(path))
    assert report.loaded and not report.missing and any('inflated' in a for a in report.adapted)
    assert any('input channels' in a for a in report.adapted) == (in_channels == 1)
    image = torch.rand(1, 1, 32, 32)
    rgb = image.repeat(1, 3, 1, 1)  # grey replicated to RGB: what the channel adaptation is exact for
    expected = tv.layer1(tv.maxpool(tv.relu(tv.bn1(tv.conv1(rgb)))))
    got = vol(image.unsqueeze(2).repeat(1, in_channels, 48, 1, 1))[0]  # 48 identical slices
    torch.testing.assert_close(got[:, :, got.shape[2] // 2], expected, rtol=1e-4, atol=1e-4)
