"""NonLocal3d: mmcv's keys and arithmetic in every mode (against tests/mmaction2_reference.py), identity at init."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from resbackbones.layers.non_local import NonLocal3d

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

BN3D = dict(type='BN3d', requires_grad=True)


def _randomise_biases(model: torch.nn.Module) -> None:
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.conv._ConvNd) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)


@pytest.mark.parametrize('mode, sub_sample, use_scale, norm', [
    ('embedded_gaussian', True, False, True),   # mmaction2's I3D-NL setting
    ('embedded_gaussian', False, True, False),
    ('dot_product', True, False, True),
    ('dot_product', False, False, False),
    ('gaussian', True, False, True),
    ('gaussian', False, False, True),
    ('concatenation', True, False, True),
])
@torch.no_grad()
def test_matches_mmcv_with_its_keys(mode, sub_sample, use_scale, norm, randomise):
    kwargs = dict(reduction=2, use_scale=use_scale, mode=mode, sub_sample=sub_sample)
    theirs = randomise(ref.NonLocal3d(16, norm_cfg=BN3D if norm else None, **kwargs))
    _randomise_biases(theirs)
    ours = NonLocal3d(16, norm_cfg=BN3D if norm else None, **kwargs).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)  # same keys, same shapes
    x = torch.randn(2, 16, 3, 6, 5)
    expected = theirs(x.clone())
    assert not torch.allclose(expected, x, atol=1e-3)  # the block does something
    torch.testing.assert_close(ours(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('norm_cfg', [BN3D, None])
def test_a_new_block_is_the_identity(norm_cfg):
    block = NonLocal3d(8, norm_cfg=norm_cfg, sub_sample=True).eval()
    x = torch.randn(1, 8, 2, 4, 4)
    assert torch.equal(block(x), x)
    assert 0.005 < float(block.theta.conv.weight.detach().std()) < 0.02  # mmcv's N(0, 0.01) embeddings


def test_segments_of_2d_frames_fold_into_a_clip(randomise):
    block = randomise(NonLocal3d(8, norm_cfg=BN3D, num_segments=3))
    clip = torch.randn(2, 8, 3, 4, 5)
    frames = clip.transpose(1, 2).reshape(6, 8, 4, 5)
    torch.testing.assert_close(block(frames), block(clip).transpose(1, 2).reshape(6, 8, 4, 5))


@pytest.mark.parametrize('kwargs, message', [
    (dict(mode='softmax'), 'mode must be one of'),
    (dict(conv_cfg=dict(type='Conv2d')), "conv_cfg must be None or dict\\(type='Conv3d'\\)"),
    (dict(reduction=0), 'reduction must be an integer >= 1'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NonLocal3d(8, **kwargs)


def test_frames_that_are_not_whole_clips_are_named():  # a bare view error named neither the block nor the count
    with pytest.raises(ValueError, match=r'NonLocal3d takes \(N \* num_segments, C, H, W\) frames with num_segments=4; '
                                         r'got shape \(6, 8, 4, 4\)'):
        NonLocal3d(8, num_segments=4)(torch.randn(6, 8, 4, 4))


def test_a_4d_input_without_segments_is_refused():
    with pytest.raises(ValueError, match=r'takes \(N, C, T, H, W\) features'):
        NonLocal3d(8)(torch.randn(2, 8, 4, 4))
