"""Picture hooks under dist_test.sh: each rank names its samples by their place in the test set, no two ranks write
one file, and the sampler's padding is not drawn (rank 0 alone drew, so half the pictures were never written)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch.multiprocessing as mp

from resbackbones.visualization.sample_order import SampleOrder

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared gloo helpers
from gloo import free_port, gloo_group  # noqa: E402

# five test images, two of one name; DefaultSampler (no shuffle) gives rank 0 images 0, 2, 4 and rank 1 images
# 1, 3 and a padded repeat of image 0; batches of two
STEMS = ['a', 'b', 'x', 'x', 'c']


def _worker(rank: int, port: int, out: str) -> None:
    with gloo_group(rank, port):
        order = SampleOrder()
        order.reset(SimpleNamespace(test_dataloader=SimpleNamespace(dataset=STEMS)))
        mine = (list(range(len(STEMS))) + [0])[rank::2]
        places = []
        for start in range(0, len(mine), 2):
            batch = mine[start:start + 2]
            places += order.batch([STEMS[i] for i in batch], [None] * len(batch))
        Path(out, f'rank{rank}.json').write_text(json.dumps(places))


@pytest.mark.slow
def test_two_ranks_place_and_name_their_samples_as_one_process(tmp_path):
    mp.start_processes(_worker, args=(free_port(), str(tmp_path)), nprocs=2, start_method='spawn')
    ranks = [json.loads((tmp_path / f'rank{r}.json').read_text()) for r in range(2)]
    assert ranks[0] == [[0, 'a'], [2, 'x'], [4, 'c']]
    assert ranks[1] == [[1, 'b'], [3, 'x_0003'], None]  # the repeat of image 0 is padding
    one = SampleOrder()
    one.reset(SimpleNamespace(test_dataloader=SimpleNamespace(dataset=STEMS)))
    assert [list(p) for p in one.batch(STEMS, [None] * 5)] == [[0, 'a'], [1, 'b'], [2, 'x'], [3, 'x_0003'],
                                                                  [4, 'c']]
