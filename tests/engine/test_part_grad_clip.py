"""PartGradClipHook clips the named parts' gradients together before every step, and nothing else."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from resbackbones.engine import PartGradClipHook
from resbackbones.engine.part_grad_clip import check_clip_with_sharded_rows


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
                                             (dict(max_norm=0), 'max_norm must be a number > 0'),
                                             (dict(max_norm='5'), "max_norm must be a number > 0; got '5'"),
                                             (dict(norm_type=None), 'norm_type must be a number > 0')])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PartGradClipHook(**kwargs)


def test_a_part_the_model_lacks_is_named():
    runner = SimpleNamespace(model=Face(), optim_wrapper=SimpleNamespace(optimizer=None))
    with pytest.raises(ValueError, match=r"Face has no submodule\(s\) \['neck'\]"):
        PartGradClipHook(parts=('backbone', 'neck')).before_train(runner)


def test_parts_without_trainable_parameters_are_named():
    """A frozen or parameter-free part made the hook clip nothing, without a word."""
    model = Face()
    model.backbone.requires_grad_(False)
    runner = SimpleNamespace(model=model, optim_wrapper=OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    with pytest.raises(ValueError, match=r"parts \['backbone'\] of Face have no trainable parameters"):
        PartGradClipHook(parts=('backbone',)).before_train(runner)
    dict_wrapper = OptimWrapperDict(a=OptimWrapper(torch.optim.SGD(model.embedding.parameters(), lr=0.1)))
    with pytest.raises(ValueError, match='PartGradClipHook needs one optimizer'):  # was an AttributeError
        PartGradClipHook(parts=('embedding',)).before_train(SimpleNamespace(model=model, optim_wrapper=dict_wrapper))


class ShardedHead(nn.Module):
    """Rows 0-5 of an 11-row matrix, as Partial FC's rank 0 of 2 holds them."""
    rank_local_parameters = ('weight',)

    def __init__(self, rows: int = 6, total: int = 11):
        super().__init__()
        self.weight, self.rows, self.total = nn.Parameter(torch.zeros(rows, 3)), rows, total

    def shard_rows(self):
        return 0, self.rows, self.total


@pytest.mark.parametrize('rows, clip_grad, refused', [(6, dict(max_norm=5.0), True), (11, dict(max_norm=5.0), False),
                                                      (6, None, False)])
def test_clip_grad_is_refused_with_rows_sharded_over_ranks(rows, clip_grad, refused):
    """Each rank's norm counted its own rows: the ranks scaled the same averaged gradient differently, and their
    networks drifted apart (92 of 94 tensors differed after a 2-rank run). One process (all rows) is fine."""
    model = Face()
    model.head = ShardedHead(rows)
    optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1), clip_grad=clip_grad)
    if not refused:
        check_clip_with_sharded_rows(model, optim_wrapper)
        return
    with pytest.raises(ValueError, match=r"row-sharded parameters \(\['head.weight'\]\).*PartGradClipHook"):
        check_clip_with_sharded_rows(model, optim_wrapper)
