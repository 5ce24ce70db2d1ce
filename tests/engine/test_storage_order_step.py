"""Optimizer steps on channels_last weights in their memory order: the same updates as torch's own step on those
weights, the optimizer sees only contiguous tensors, and parameters, gradients and state keep their NCHW shapes
outside the step. (The reference is channels_last too: convolutions in another layout sum in another order.)"""
import copy
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from resbackbones.engine.cpu_amp import ChannelsLastHook, to_channels_last
from resbackbones.engine.storage_order_step import step_in_storage_order, storage_format

OPTIMIZERS = {
    'adamw-fused': lambda params: torch.optim.AdamW(params, lr=1e-2, weight_decay=0.1, fused=True),
    'adamw-foreach': lambda params: torch.optim.AdamW(params, lr=1e-2, amsgrad=True, foreach=True),
    'sgd-momentum': lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
}


def net(dims: int) -> nn.Module:
    conv, norm = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)
    torch.manual_seed(0)
    # no bias before the BN: its gradient is rounding noise, which Adam scales up to a full step
    return nn.Sequential(conv(3, 6, 3, bias=False), norm(6), nn.ReLU(), conv(6, 5, (1,) * (dims - 2) + (3, 2)),
                         nn.Flatten(1), nn.LazyLinear(2))


def train(model: nn.Module, optimizer: torch.optim.Optimizer, dims: int, steps: int = 3) -> None:
    torch.manual_seed(1)
    for _ in range(steps):
        x = torch.randn(2, 3, *(4,) * (dims - 2), 9, 9)
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()


@pytest.mark.parametrize('name', sorted(OPTIMIZERS))
@pytest.mark.parametrize('dims', [2, 3])
def test_same_updates_as_torchs_own_step(name, dims):
    reference, model = net(dims), net(dims)
    for each in (reference, model):
        each(torch.randn(1, 3, *(4,) * (dims - 2), 9, 9))  # materialise the lazy layer
    model.load_state_dict(reference.state_dict())
    to_channels_last(reference)
    to_channels_last(model)
    ref_opt, opt = OPTIMIZERS[name](reference.parameters()), OPTIMIZERS[name](model.parameters())
    step_in_storage_order(opt)
    seen = []  # registered after ours: what the optimizer's own step is given
    opt.register_step_pre_hook(lambda o, *_: seen.extend(
        (p.is_contiguous(), p.grad.is_contiguous()) for g in o.param_groups for p in g['params']))
    train(reference, ref_opt, dims)
    train(model, opt, dims)
    assert seen and all(all(pair) for pair in seen)
    weight = model[0].weight
    assert storage_format(weight) == (torch.channels_last if dims == 2 else torch.channels_last_3d)
    assert weight.shape == reference[0].weight.shape  # NCHW outside steps
    assert weight.grad.shape == weight.shape
    for (key, ours), theirs in zip(model.state_dict().items(), reference.state_dict().values()):
        torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-7, msg=key)
    for param, ref_param in zip(model.parameters(), reference.parameters()):
        for key, value in opt.state[param].items():
            torch.testing.assert_close(value, ref_opt.state[ref_param][key], rtol=1e-6, atol=1e-7)
    # the state saves in the parameters' shapes: a plain optimizer takes it
    OPTIMIZERS[name](reference.parameters()).load_state_dict(opt.state_dict())


def test_moments_from_an_nchw_checkpoint_step_right_and_it_registers_once():
    """Moments saved from contiguous weights (the plain config's checkpoint) resumed onto channels_last ones: torch
    2.14's fused CPU AdamW mis-steps such mixed layouts (its update then differs from its own unfused one); ours
    steps them as contiguous training does. The reference is the contiguous model itself."""
    reference, model = net(2), net(2)
    for each in (reference, model):
        each(torch.randn(1, 3, 9, 9))
    first = OPTIMIZERS['adamw-fused'](reference.parameters())
    train(reference, first, 2, steps=1)
    saved = first.state_dict()
    assert not any(storage_format(v) for state in saved['state'].values() for v in state.values())
    model.load_state_dict(reference.state_dict())
    to_channels_last(model)
    opt = OPTIMIZERS['adamw-fused'](model.parameters())
    opt.load_state_dict(copy.deepcopy(saved))  # loading keeps the tensors it is given: not shared with `first`
    for _ in range(2):
        step_in_storage_order(opt)
    assert len(opt._optimizer_step_pre_hooks) == 1 and len(opt._optimizer_step_post_hooks) == 1
    train(reference, first, 2, steps=2)
    train(model, opt, 2, steps=2)
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    assert storage_format(opt.state[model[0].weight]['exp_avg']) == torch.channels_last


def test_a_step_that_raised_is_undone_by_the_next():
    model = net(2)
    model(torch.randn(1, 3, 9, 9))
    to_channels_last(model)
    opt = step_in_storage_order(torch.optim.SGD(model.parameters(), lr=0.1))
    model(torch.randn(1, 3, 9, 9)).sum().backward()

    def fail(*_):
        raise RuntimeError('stop')
    handle = opt.register_step_pre_hook(fail)
    with pytest.raises(RuntimeError, match='stop'):
        opt.step()
    assert model[0].weight.is_contiguous()  # left as its (N, H, W, C) view by the failed step
    handle.remove()
    opt.step()
    assert storage_format(model[0].weight) == torch.channels_last and model[3].weight.shape == (5, 6, 3, 2)


@pytest.mark.parametrize('wrapped', ['wrapper', 'dict', 'config', 'off'])
def test_channels_last_hook_registers_on_the_runners_optimizers(wrapped):
    model = net(2)
    model(torch.randn(1, 3, 9, 9))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    wrapper = {'wrapper': OptimWrapper(optimizer), 'dict': OptimWrapperDict(a=OptimWrapper(optimizer)),
               'config': dict(optimizer=dict(type='SGD', lr=0.1)), 'off': OptimWrapper(optimizer)}[wrapped]
    runner = SimpleNamespace(model=model, optim_wrapper=wrapper)
    hook = ChannelsLastHook(storage_order_step=wrapped != 'off')
    for _ in range(2):  # mmengine calls before_run again for the test after training
        hook.before_run(runner)
    assert storage_format(model[0].weight) == torch.channels_last
    assert len(optimizer._optimizer_step_pre_hooks) == (1 if wrapped in ('wrapper', 'dict') else 0)
