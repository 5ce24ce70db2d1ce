"""Every named model, and the video and face views, keep their parameters, keys and outputs across refactors.

tests/backbones/fingerprints.json was written by the code before the core took its views as data (commit 15f5e6f,
where ResNet3d and IResNet still patched the core through hooks): parameter count, a hash of the state dict's keys
and shapes, output shapes, and the mean |output| of a seeded model on a seeded input. A refactor that changes a
key, a width, a stride, an init order or a block's arithmetic changes one of them. One entry was re-recorded on
purpose since: resnet3d18, when basic blocks began to inflate both convs as mmaction2's BasicBlock3d does.
Entries added later (recorded by the code that introduced them, once checked against mmaction2 or torchvision):
i3d_nl_r50, tsm_r50, r2plus1d_18.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

from resbackbones.backbones.named import NAMED_MODELS, model_config
from resbackbones.backbones.named_video import video_model_config
from resbackbones.registry import MODELS

RECORDED = json.loads((Path(__file__).parent / 'fingerprints.json').read_text())
EXTRA = {
    'resnet3d18': dict(type='ResNet3d', depth=18),
    'i3d_r50': dict(type='ResNet3d', depth=50, conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2,
                    inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))),
    'slowonly_r50': dict(type='ResNet3d', depth=50, conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1), with_pool2=False),
    'iresnet50': dict(type='IResNet', depth=50),
    'iresnet18_all': dict(type='IResNet', depth=18, out_indices=('stem', 0, 1, 2, 3)),
    'resnet50d_all': dict(type='ResNetV1d', depth=50, out_indices=('stem', 0, 1, 2, 3)),
    'i3d_nl_r50': video_model_config('i3d_nl_r50'),
    'tsm_r50': video_model_config('tsm_r50'),
    'r2plus1d_18': video_model_config('r2plus1d_18'),
}
INPUTS = {'ResNet3d': (1, 3, 8, 32, 32), 'ResNet2Plus1d': (1, 3, 8, 32, 32), 'ResNetTSM': (8, 3, 32, 32),
          'IResNet': (1, 3, 32, 32)}  # ResNetTSM: one clip of 8 frames


def _config(name: str) -> dict:
    return EXTRA[name] if name in EXTRA else model_config(name)


def test_every_named_model_is_recorded():
    assert set(RECORDED) == set(NAMED_MODELS) | set(EXTRA)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(RECORDED))
def test_params_keys_and_outputs_are_unchanged(name):
    cfg, expected = _config(name), RECORDED[name]
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    layout = json.dumps([(k, list(v.shape)) for k, v in model.state_dict().items()])
    assert sum(p.numel() for p in model.parameters()) == expected['params']
    assert hashlib.sha256(layout.encode()).hexdigest()[:16] == expected['keys']
    shape = INPUTS.get(cfg['type'], (1, 3, 64, 64))
    with torch.no_grad():
        feats = model(torch.rand(shape, generator=torch.Generator().manual_seed(1)))
    assert [list(f.shape) for f in feats] == expected['shapes']
    means = [float(f.double().abs().mean()) for f in feats]
    assert means == pytest.approx(expected['sums'], rel=1e-4)
