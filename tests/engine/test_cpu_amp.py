"""The CPU training switch: bf16 autocast inside the optimizer wrapper's context, channels_last by a hook, and
the two nuclei configs that turn both on."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from torch import nn

from resbackbones.engine.cpu_amp import ChannelsLastHook, CPUAmpOptimWrapper
from resbackbones.registry import OPTIM_WRAPPERS

REPO = __import__('pathlib').Path(__file__).resolve().parents[2]


def test_autocast_bf16_in_context_fp32_weights_and_step():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    wrapper = OPTIM_WRAPPERS.build(dict(type='CPUAmpOptimWrapper', optimizer=torch.optim.SGD(model.parameters(),
                                                                                             lr=0.1)))
    x = torch.randn(2, 1, 8, 8)
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    before = model[0].weight.clone()
    wrapper.update_params(out.float().sum())
    assert model[0].weight.dtype == torch.float32 and not torch.equal(before, model[0].weight)
    assert model(x).dtype == torch.float32  # outside the context: plain fp32


@pytest.mark.parametrize('dtype', ['int8', 'float16'])  # float16 was taken, unscaled: 88% of gradients were 0
def test_bad_dtype_is_named(dtype):
    with pytest.raises(ValueError, match=f"dtype must be 'bfloat16' .*; got '{dtype}'"):
        CPUAmpOptimWrapper(optimizer=torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1), dtype=dtype)


@pytest.mark.parametrize('dims', [2, 3])
def test_channels_last_hook_keeps_outputs_and_parameters(dims):
    conv, fmt = (nn.Conv2d, torch.channels_last) if dims == 2 else (nn.Conv3d, torch.channels_last_3d)
    model = nn.Sequential(conv(3, 8, 3), nn.BatchNorm2d(8) if dims == 2 else nn.BatchNorm3d(8), conv(8, 8, 3)).eval()
    x = torch.randn(1, 3, *(6,) * (dims - 2), 16, 16)
    expected, params = model(x), list(model.parameters())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # built before the hook, as the runner does
    ChannelsLastHook().before_run(SimpleNamespace(model=model))
    assert model[0].weight.is_contiguous(memory_format=fmt) and model[2].weight.is_contiguous(memory_format=fmt)
    assert not model[0].weight.is_contiguous()  # really moved (a 3x3 kernel over 3 channels is not both)
    out = model(x)
    if dims == 2:  # oneDNN's 2D convs follow their weights' layout; its 3D ones keep NCDHW outputs
        assert out.is_contiguous(memory_format=fmt)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    assert list(model.parameters()) == params and optimizer.param_groups[0]['params'][0] is model[0].weight


@pytest.mark.parametrize('config, channels_last', [('configs/unet/unet_r34_nuclei_bf16.py', False),
                                                    ('configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei_bf16.py', True)])
def test_nuclei_configs_switch_bf16_on(config, channels_last):
    """Both train in bf16 with the fused AdamW; only the Mask R-CNN keeps channels_last weights (docs/deploy.md)."""
    cfg = Config.fromfile(REPO / config)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper' and cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.fused is True
    assert ({'type': 'ChannelsLastHook'} in [dict(h) for h in cfg.custom_hooks]) is channels_last
