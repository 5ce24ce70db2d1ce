"""PartGradClipHook clips the named parts' gradients together before every step, and nothing else."""
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from resbackbones.engine import PartGradClipHook


class Face(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone, self.embedding, self.head = nn.Linear(4, 4), nn.Linear(4, 3), nn.Linear(3, 10)


def test_only_the_named_parts_are_clipped_and_together():
    torch.manual_seed(0)
    model = Face()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the step changes no weight, grads stay to read
    runner = SimpleNamespace(model=model, optim_wrapper=SimpleNamespace(optimizer=optimizer))
    hook = PartGradClipHook(max_norm=5.0)
    hook.before_train(runner)
    (model.head(model.embedding(model.backbone(torch.randn(8, 4) * 100))) ** 2).sum().backward()
    head_before = [p.grad.clone() for p in model.head.parameters()]
    network = [p for m in (model.backbone, model.embedding) for p in m.parameters()]
    assert torch.norm(torch.stack([p.grad.norm() for p in network])) > 5
    optimizer.step()
    assert torch.norm(torch.stack([p.grad.norm() for p in network])) == pytest.approx(5.0, rel=1e-4)
    assert all(torch.equal(p.grad, before) for p, before in zip(model.head.parameters(), head_before))
    hook.after_train(runner)
    for p in network:
        p.grad.mul_(10)
    optimizer.step()  # the hook is gone: nothing clipped
    assert torch.norm(torch.stack([p.grad.norm() for p in network])) == pytest.approx(50.0, rel=1e-4)


@pytest.mark.parametrize('kwargs, message', [(dict(parts='backbone'), 'parts must be a non-empty list'),
                                             (dict(max_norm=0), 'max_norm must be > 0')])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PartGradClipHook(**kwargs)


def test_a_part_the_model_lacks_is_named():
    runner = SimpleNamespace(model=Face(), optim_wrapper=SimpleNamespace(optimizer=None))
    with pytest.raises(ValueError, match=r"Face has no submodule\(s\) \['neck'\]"):
        PartGradClipHook(parts=('backbone', 'neck')).before_train(runner)
