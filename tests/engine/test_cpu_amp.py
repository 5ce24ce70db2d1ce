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


def test_bad_dtype_is_named():
    with pytest.raises(ValueError, match="dtype must be 'bfloat16' or 'float16'"):
        CPUAmpOptimWrapper(optimizer=torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1), dtype='int8')


def test_channels_last_hook():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 8, 3))
    ChannelsLastHook().before_run(SimpleNamespace(model=model))
    assert all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in model)
    assert model(torch.randn(1, 3, 16, 16)).is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize('config', ['configs/unet/unet_r34_nuclei_bf16.py',
                                    'configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei_bf16.py'])
def test_nuclei_configs_switch_both_on(config):
    cfg = Config.fromfile(REPO / config)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper' and cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.fused is True
    assert {'type': 'ChannelsLastHook'} in [dict(h) for h in cfg.custom_hooks]
