"""Partial FC's class centres in checkpoints: two gloo ranks write one file with the whole matrix and its momentum,
each rank loads its own rows back, one process loads the unsharded head, and a rank's shard alone is refused."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.optim import OptimWrapper
from torch import nn

from resbackbones.engine.sharded_rows import gather_full_rows, insert_full_rows, take_own_rows
from resbackbones.heads import PartialFCHead

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared gloo helpers
from gloo import free_port, gloo_group  # noqa: E402

NUM_CLASSES, DIM = 11, 4  # shards of 6 and 5 rows


class Model(nn.Module):
    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.embedding = nn.Linear(DIM, DIM)
        self.margin_head = PartialFCHead(DIM, NUM_CLASSES, scale=8.0)


def _trained(seed: int) -> tuple[Model, OptimWrapper]:
    """A model and its SGD after one step, so that the optimizer holds a momentum per row."""
    model = Model(seed)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, NUM_CLASSES, (6,), generator=g)
    wrapper.update_params(model.margin_head.loss(model.embedding(torch.randn(6, DIM, generator=g)), labels))
    return model, wrapper


def _worker(rank: int, port: int, out: str) -> None:
    with gloo_group(rank, port):
        model, wrapper = _trained(seed=rank)
        head = model.margin_head
        momentum = wrapper.optimizer.state[head.weight]['momentum_buffer']
        gathered = gather_full_rows(model, wrapper)  # every rank calls it; rank 0 gets the matrices
        assert (gathered != {}) is (rank == 0)
        if rank == 0:
            checkpoint = {'state_dict': model.state_dict(), 'optimizer': wrapper.state_dict()}
            assert checkpoint['state_dict']['margin_head.weight'].shape == (6, DIM)  # what mmengine would write
            insert_full_rows(checkpoint, gathered)
            # the live optimizer keeps its shard's momentum (state_dict() shares the optimizer's dicts)
            assert wrapper.optimizer.state[head.weight]['momentum_buffer'] is momentum
            torch.save(checkpoint, f'{out}/full.pth')
            torch.save({'state_dict': model.state_dict(), 'optimizer': wrapper.state_dict()}, f'{out}/shard.pth')
        torch.save({'start': head.class_start, 'weight': head.weight.detach(), 'momentum': momentum},
                   f'{out}/truth{rank}.pth')
        dist.barrier()

        fresh, fresh_wrapper = _trained(seed=10 + rank)  # other weights and momentum, to be replaced
        checkpoint = torch.load(f'{out}/full.pth', weights_only=True)
        take_own_rows(checkpoint, fresh, fresh_wrapper)
        fresh.load_state_dict(checkpoint['state_dict'])
        fresh_wrapper.load_state_dict(checkpoint['optimizer'])
        loaded = {'weight': fresh.margin_head.weight.detach(),
                  'momentum': fresh_wrapper.optimizer.state[fresh.margin_head.weight]['momentum_buffer']}

        errors = []
        shard = torch.load(f'{out}/shard.pth', weights_only=True)
        for load in (lambda: fresh.load_state_dict(shard['state_dict']),
                     lambda: take_own_rows(shard, fresh, fresh_wrapper)):
            try:
                load()
                errors.append(None)
            except ValueError as e:
                errors.append(str(e))
        torch.save({**loaded, 'errors': errors}, f'{out}/loaded{rank}.pth')


@pytest.mark.slow
def test_two_ranks_save_the_whole_matrix_and_load_their_own_rows(tmp_path):
    mp.start_processes(_worker, args=(free_port(), str(tmp_path)), nprocs=2, start_method='spawn')
    truth = [torch.load(tmp_path / f'truth{r}.pth', weights_only=True) for r in range(2)]
    assert [t['start'] for t in truth] == [0, 6] and not torch.equal(truth[0]['weight'][:5], truth[1]['weight'])
    checkpoint = torch.load(tmp_path / 'full.pth', weights_only=True)
    full = checkpoint['state_dict']['margin_head.weight']
    torch.testing.assert_close(full, torch.cat([t['weight'] for t in truth]), rtol=0, atol=0)
    head_index = 2  # embedding.weight, embedding.bias, margin_head.weight
    torch.testing.assert_close(checkpoint['optimizer']['state'][head_index]['momentum_buffer'],
                               torch.cat([t['momentum'] for t in truth]), rtol=0, atol=0)
    for rank in range(2):
        loaded = torch.load(tmp_path / f'loaded{rank}.pth', weights_only=True)
        torch.testing.assert_close(loaded['weight'], truth[rank]['weight'], rtol=0, atol=0)
        torch.testing.assert_close(loaded['momentum'], truth[rank]['momentum'], rtol=0, atol=0)
        weight_error, momentum_error = loaded['errors']
        assert 'margin_head.weight: the checkpoint holds 6 rows, not the 11 of the whole matrix' in weight_error
        assert f"rank {rank} its rows {truth[rank]['start']}.." in momentum_error

    one = Model(seed=3)  # one process: the whole matrix is the unsharded head
    one.load_state_dict(checkpoint['state_dict'])
    torch.testing.assert_close(one.margin_head.weight.detach(), full, rtol=0, atol=0)


def test_one_process_has_nothing_to_gather_or_cut():
    model, wrapper = _trained(seed=0)
    assert gather_full_rows(model, wrapper) == {}
    checkpoint = {'state_dict': model.state_dict(), 'optimizer': wrapper.state_dict()}
    before = checkpoint['optimizer']['state'][2]['momentum_buffer'].clone()
    take_own_rows(checkpoint, model, wrapper)
    assert torch.equal(checkpoint['optimizer']['state'][2]['momentum_buffer'], before)
