"""C2D: mmaction2's per-frame 2D ResNet baseline as the core's 3D ResNet with kernels of 1 in time."""
import sys
from pathlib import Path

import pytest
import torch

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

TINY = dict(depth=50, stage_blocks=(1, 2, 1, 1), base_channels=8)


@torch.no_grad()
def test_mmaction2_c2d_checkpoint_gives_its_outputs(tmp_path, randomise):
    theirs = randomise(ref.C2D((1, 2, 1, 1), base_channels=8))
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in theirs.state_dict().items()},
                'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'c2d.pth')
    ours = MODELS.build(dict(type='C2D', **TINY))
    report = load_pretrained(ours, str(tmp_path / 'c2d.pth'), strict=True)
    assert not report.missing and not report.unexpected
    clip = torch.rand(2, 3, 6, 45, 45)  # odd sizes: the unpadded max-pool rounds down
    [out] = ours.eval()(clip)
    expected = theirs(clip)
    assert out.shape == expected.shape == (2, 256, 3, 2, 2)  # 45 -> 23 -> 11 (a padded pool: 12) -> 6 -> 3 -> 2
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)


def test_r50_recognizer_has_mmaction2s_parameter_count():
    model = MODELS.build(dict(type='Recognizer3D', backbone=dict(type='C2D', depth=50, norm_eval=False),
                              cls_head=dict(type='I3DHead', num_classes=400, in_channels=2048)))
    assert sum(p.numel() for p in model.parameters()) == 24_327_632  # metafile: 24.3M


@pytest.mark.parametrize('size', [32, 45, 64, 67])
def test_feature_specs_give_the_rounded_down_sizes(size):
    model = MODELS.build(dict(type='C2D', out_indices=(0, 1, 2, 3), **TINY)).eval()
    outs = model(torch.rand(1, 3, 4, size, size))
    assert model.feature_specs[0].spatial_ops  # the stem pool rounds down, so sizes are not ceil(size / stride)
    for out, spec in zip(outs, model.feature_specs):
        assert out.shape[-1] == spec.output_size(size) and out.shape[2] == spec.temporal_output_size(4)


@pytest.mark.parametrize('kwargs, message', [
    (dict(partial_bn=True), 'C2D: partial_bn is not supported'),
    (dict(conv_cfg=dict(type='Conv3d')), 'C2D: conv_cfg must name a plain 2D conv'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='C2D', **TINY, **kwargs))


def test_the_core_takes_only_paddings_a_3x3_pool_allows():
    with pytest.raises(ValueError, match='stem_pool_padding must be one of'):
        MODELS.build(dict(type='ResNet', depth=18, stem_pool_padding=2))
