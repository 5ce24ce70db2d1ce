"""The iteration-based loop: mmengine's batches in mmengine's order, without the epoch-end pause when no worker
restarts; with restarting workers the pause stays."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.dataset import DefaultSampler, InfiniteSampler, pseudo_collate
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.runner import loops as mmengine_loops
from torch.utils.data import DataLoader

from resbackbones.engine.iter_loop import IterBasedTrainLoop
from resbackbones.registry import LOOPS


class Indices(torch.utils.data.Dataset):
    """Item i is i, so a batch shows which samples the sampler drew."""

    def __len__(self) -> int:
        return 6

    def __getitem__(self, index: int) -> int:
        return index


def loader(sampler_type, num_workers: int = 0, persistent: bool = False) -> DataLoader:
    dataset = Indices()
    return DataLoader(dataset, batch_size=4, sampler=sampler_type(dataset, shuffle=True, seed=3),
                      num_workers=num_workers, persistent_workers=persistent, collate_fn=pseudo_collate)


def draw(iterator, steps: int) -> list:
    return [list(next(iterator)) for _ in range(steps)]


@pytest.fixture
def pauses(monkeypatch) -> list:
    """Records mmengine's epoch-end ``time.sleep`` calls instead of sleeping."""
    calls = []
    monkeypatch.setattr(mmengine_loops.time, 'sleep', calls.append)
    return calls


def test_configs_naming_mmengines_loop_get_this_one():
    assert LOOPS.get('IterBasedTrainLoop') is IterBasedTrainLoop
    assert MMENGINE_LOOPS.get('IterBasedTrainLoop') is mmengine_loops.IterBasedTrainLoop  # mmengine's stays


@pytest.mark.parametrize('num_workers, persistent, expected_pauses', [(0, False, 0), (1, True, 0), (1, False, 2)])
def test_same_batches_as_mmengine_and_a_pause_only_when_workers_restart(num_workers, persistent, expected_pauses,
                                                                        pauses):
    # 6 samples in batches of 4 (the last one short): 5 steps cross two epoch ends
    reference = draw(mmengine_loops._InfiniteDataloaderIterator(loader(DefaultSampler)), 5)
    assert len(pauses) == 2
    pauses.clear()
    loop = IterBasedTrainLoop(SimpleNamespace(), loader(DefaultSampler, num_workers, persistent), max_iters=5)
    assert draw(loop.dataloader_iterator, 5) == reference
    assert reference[0] != reference[2]  # set_epoch reshuffled, so order is compared, not just content
    assert len(pauses) == expected_pauses


def test_the_started_iterator_is_taken_over_so_an_infinite_sampler_loses_no_batch():
    # the worker has prefetched batches of the shared index stream when the loop takes over its iterator
    reference = draw(iter(loader(InfiniteSampler)), 4)
    loop = IterBasedTrainLoop(SimpleNamespace(), loader(InfiniteSampler, 1, True), max_iters=4)
    assert draw(loop.dataloader_iterator, 4) == reference
