"""ResNetTIN: mmaction2's temporal interlace network on the TSM view of the core."""
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

TINY = dict(depth=50, stage_blocks=(1, 2, 1, 1), base_channels=16, num_segments=4, shift_div=4)


@torch.no_grad()
def test_mmaction2_tin_checkpoint_gives_its_outputs(tmp_path, randomise):
    theirs = randomise(ref.ResNetTIN((1, 2, 1, 1), base_channels=16, num_segments=4, shift_div=4))
    gen = torch.Generator().manual_seed(3)
    for m in theirs.modules():  # offsets far from whole frames, weights away from 1: every path of the shift counts
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 0.05)
            m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.5)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in theirs.state_dict().items()},
                'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'tin.pth')
    ours = MODELS.build(dict(type='ResNetTIN', **TINY))
    report = load_pretrained(ours, str(tmp_path / 'tin.pth'), strict=True)
    assert not report.missing and not report.unexpected
    assert sum(k.startswith('layer2.1.interlace.') for k in ours.state_dict()) == 8  # offset (3 layers), weight
    frames = torch.rand(8, 3, 48, 48)  # 2 clips of 4 frames
    [out] = ours.eval()(frames)
    torch.testing.assert_close(out, theirs(frames), rtol=1e-4, atol=1e-4)


def test_every_block_interlaces_its_residual_branch_only():
    model = MODELS.build(dict(type='ResNetTIN', **TINY))
    blocks = [b for stage in model.stages() for b in stage]
    assert all(b.addon_names['branch'] == ['interlace'] and not hasattr(b, 'shift') for b in blocks)
    assert model.layer3[0].interlace.folds == model.layer3[0].in_channels // 4


def test_tin_r50_has_mmaction2s_parameter_count():
    model = MODELS.build(dict(type='Recognizer2D', backbone=dict(type='ResNetTIN', depth=50, shift_div=4),
                              cls_head=dict(type='TSMHead', num_classes=400, is_shift=False)))
    assert sum(p.numel() for p in model.parameters()) == 24_358_640  # mmaction2's metafile


@pytest.mark.parametrize('kwargs, message', [
    (dict(temporal_pool=True), 'ResNetTIN does not take temporal_pool=True'),
    (dict(shift_place='block'), "ResNetTIN does not take shift_place='block'"),
    (dict(is_shift=True), 'use is_tin'),
    (dict(shift_div=64), 'must be a positive multiple of 4'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(type='ResNetTIN', **{**TINY, **kwargs}))


@torch.no_grad()
def test_a_tsm_checkpoint_starts_tin_with_its_interlaces_reported_missing(tmp_path, randomise):
    # mmaction2's tin_kinetics400-pretrained-tsm-r50 config starts TIN from a TSM checkpoint
    tsm = randomise(ref.ResNetTSM((1, 2, 1, 1), base_channels=16, num_segments=4))
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in tsm.state_dict().items()},
                'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'tsm.pth')
    ours = MODELS.build(dict(type='ResNetTIN', **TINY))
    report = load_pretrained(ours, str(tmp_path / 'tsm.pth'))
    assert report.missing and all('.interlace.' in key for key in report.missing) and not report.unexpected
    torch.testing.assert_close(ours.layer2[1].conv1.weight, tsm.layer2[1].conv1.conv.net.weight)
