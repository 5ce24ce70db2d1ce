"""ResNetTSM: mmaction2's TSM checkpoints give its outputs (tests/mmaction2_reference.py), the shift is the only
difference from the 2D ResNet, and the arguments behave as mmaction2's."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402

TINY = dict(depth=50, base_channels=8, stage_blocks=(1, 2, 2, 1))


def _tsm(**kwargs) -> nn.Module:
    return MODELS.build(dict(type='ResNetTSM', **{**TINY, **kwargs}))


@pytest.mark.parametrize('shift_place', ['blockres', 'block'])
@torch.no_grad()
def test_mmaction2_tsm_checkpoint_gives_its_outputs(tmp_path, randomise, shift_place):
    theirs = randomise(ref.ResNetTSM((1, 2, 2, 1), base_channels=8, num_segments=4, shift_place=shift_place))
    state = {f'backbone.{k}': v for k, v in theirs.state_dict().items()}
    wrapped = 'backbone.layer1.0.conv1.conv.net.weight' if shift_place == 'blockres' else \
        'backbone.layer1.0.net.conv1.conv.weight'
    assert wrapped in state  # mmaction2's key layout: the shift wraps a conv or a block
    path = tmp_path / 'tsm_mmaction2.pth'
    torch.save({'state_dict': {**state, 'cls_head.fc_cls.weight': torch.zeros(5, 256)}, 'meta': {}}, path)
    ours = _tsm(num_segments=4, shift_place=shift_place)
    report = load_pretrained(ours, str(path), strict=True)
    assert report.source == 'mmaction2' and any("'.net'" in note for note in report.notes), report.notes
    frames = torch.rand(2 * 4, 3, 64, 64)
    [out] = ours.eval()(frames)
    expected = theirs(frames)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)
    plain = MODELS.build(dict(type='ResNet', out_indices=(3,), **TINY))
    load_pretrained(plain, str(path))
    assert not torch.allclose(plain.eval()(frames)[0], expected, atol=1e-3)  # the shifts matter


@torch.no_grad()
def test_mmaction2_tsm_nl_checkpoint_gives_its_outputs(tmp_path, randomise):
    non_local, cfg = ((0,), (0, 1), (1, 0), (0,)), dict(sub_sample=True, use_scale=False, mode='embedded_gaussian',
                                                       norm_cfg=dict(type='BN3d', requires_grad=True))
    theirs = randomise(ref.ResNetTSM((1, 2, 2, 1), base_channels=8, num_segments=4, non_local=non_local,
                                     non_local_cfg=cfg))
    gen = torch.Generator().manual_seed(2)
    for m in theirs.modules():  # the non-local embeddings have biases, which randomise leaves alone
        if isinstance(m, nn.Conv3d) and m.bias is not None:
            m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    state = {f'backbone.{k}': v for k, v in theirs.state_dict().items()}
    assert 'backbone.layer2.1.block.conv1.conv.net.weight' in state and \
        'backbone.layer2.1.non_local_block.g.0.conv.weight' in state  # NL3DWrapper's layout
    ours = _tsm(num_segments=4, non_local=non_local, non_local_cfg=cfg)
    report = load_pretrained(ours, {'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, strict=True)
    assert not report.missing and not report.unexpected
    frames = torch.rand(2 * 4, 3, 64, 64)
    torch.testing.assert_close(ours.eval()(frames)[0], theirs(frames), rtol=1e-4, atol=1e-4)


@torch.no_grad()
def test_without_shift_it_is_the_2d_resnet_and_imagenet_weights_load(tmp_path, randomise):
    tv = randomise(torchvision.models.resnet18())
    torch.save(tv.state_dict(), tmp_path / 'r18.pth')
    tsn = MODELS.build(dict(type='ResNetTSM', depth=18, num_segments=4, is_shift=False))
    tsm = MODELS.build(dict(type='ResNetTSM', depth=18, num_segments=4))
    for model in (tsn, tsm):
        load_pretrained(model, str(tmp_path / 'r18.pth'), strict=True)
    frames = torch.rand(4, 3, 64, 64)
    x = tv.maxpool(tv.relu(tv.bn1(tv.conv1(frames))))
    expected = tv.layer4(tv.layer3(tv.layer2(tv.layer1(x))))
    torch.testing.assert_close(tsn.eval()(frames)[0], expected, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(tsm.eval()(frames)[0], expected, atol=1e-3)


@torch.no_grad()
def test_frames_see_their_neighbours_only_through_the_shift():
    tsm = _tsm(num_segments=4, zero_init_residual=False).eval()
    frames = torch.rand(8, 3, 32, 32)
    changed = frames.clone()
    changed[1] += 1  # clip 0, frame 1
    diff = (tsm(changed)[0] - tsm(frames)[0]).flatten(1).abs().amax(dim=1)
    assert (diff[:4] > 0).all()  # every frame of clip 0 is reached (6 shifting blocks >= 3 frames away)
    assert (diff[4:] == 0).all()  # the other clip is untouched


def test_blockres_shifts_every_other_block_of_a_resnet101_as_mmaction2():
    model = MODELS.build(dict(type='ResNetTSM', depth=101, base_channels=8))
    shifted = [hasattr(block, 'shift') for block in model.layer3]
    assert len(shifted) == 23 and shifted == [i % 2 == 0 for i in range(23)]
    assert all(hasattr(block, 'shift') for block in _tsm().layer3)


@torch.no_grad()
def test_temporal_pool_halves_the_frames_from_the_second_stage():
    model = _tsm(num_segments=4, temporal_pool=True, out_indices=(0, 1, 3)).eval()
    assert model.layer2[0].temporal_pool.num_segments == 4 and model.layer2[0].shift.num_segments == 2
    outs = model(torch.rand(8, 3, 32, 32))
    assert [o.shape[0] for o in outs] == [8, 4, 4]


@torch.no_grad()
def test_non_local_blocks_run_over_each_clips_frames():
    model = _tsm(num_segments=4, non_local=(0, (0, 1), 0, 0), non_local_cfg=dict(sub_sample=True))
    block = model.layer2[1].non_local_block
    assert block.num_segments == 4
    out = model.eval()(torch.rand(8, 3, 32, 32))[0]
    assert out.shape == (8, 256, 1, 1)


@pytest.mark.parametrize('kwargs, message', [
    (dict(shift_place='conv'), 'shift_place must be one of'),
    (dict(num_segments=0), 'num_segments must be an integer >= 1'),
    # odd: the pool left 3 frames of 5 while later stages folded clips of 2, mixing neighbouring clips' frames
    (dict(num_segments=5, temporal_pool=True), 'temporal_pool halves each clip: num_segments must be even'),
    (dict(num_segments=1, temporal_pool=True), 'must be even and >= 2; got 1'),
    (dict(act_cfg=dict(type='GELU')), "act_cfg must be dict\\(type='ReLU'\\)"),
    (dict(non_local=(0, 0, 0)), 'non_local needs one entry per stage'),
    (dict(shift_div=16), 'shift_div=16 would move fewer than one channel each way'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _tsm(**kwargs)


def test_a_batch_of_partial_clips_is_refused():
    with pytest.raises(ValueError, match='num_segments=4'):
        _tsm(num_segments=4).eval()(torch.rand(6, 3, 32, 32))
