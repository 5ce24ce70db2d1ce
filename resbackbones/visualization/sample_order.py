"""Which test sample a picture hook is drawing, over all ranks: its dataset index and a file name no rank repeats.

``tools/dist_test.sh`` splits the test set over ranks (mmengine's DefaultSampler without shuffling: rank r's k-th
sample is sample r + k * world_size, the last ones padded with repeats). Hooks that drew on rank 0 alone left
out the other ranks' images and counted ``max_images`` / ``every`` in rank 0's share. Here every rank draws its
own samples; the file names are made unique over the gathered names of each batch, in dataset order, so two
ranks never write one file, and the sampler's padding is skipped.
"""
from __future__ import annotations

from typing import Sequence

from mmengine.dist import all_gather_object, get_dist_info

from .out_dir import unique_name


class SampleOrder:
    """Per test epoch: ``reset(runner)``, then ``batch(stems, tags)`` at every test iteration."""

    def __init__(self):
        self.size: int | None = None
        self.seen, self.names = 0, set()

    def reset(self, runner) -> None:
        """A new test epoch over ``runner.test_dataloader``'s dataset (its length tells the padding apart)."""
        try:
            self.size = len(runner.test_dataloader.dataset)
        except (AttributeError, TypeError):  # a dataset without a length: nothing is taken for padding
            self.size = None
        self.seen, self.names = 0, set()

    def batch(self, stems: Sequence[str | None], tags: Sequence[object]) -> list[tuple[int, str] | None]:
        """For each of this rank's samples: (dataset index, file stem unique over the epoch and the ranks), or
        None for a padded repeat. Called by every rank at every iteration (it gathers the names of all ranks).

        Args:
            stems: each sample's preferred file stem (its image's); None: ``sample_<index>``. tags: what tells
                equal stems apart (an image id, a case number); the index is used where it is None.
        """
        rank, world = get_dist_info()
        gathered = all_gather_object((list(stems), list(tags))) if world > 1 else [(list(stems), list(tags))]
        entries = sorted((r + (self.seen + k) * world, r, k, stem, tag)
                         for r, (rank_stems, rank_tags) in enumerate(gathered)
                         for k, (stem, tag) in enumerate(zip(rank_stems, rank_tags)))
        mine: list[tuple[int, str] | None] = [None] * len(stems)
        for index, r, k, stem, tag in entries:
            if self.size is None or index < self.size:
                name = unique_name(f'sample_{index:04d}' if stem is None else stem, self.names,
                                   f'{index:04d}' if tag is None else tag)
                if r == rank:
                    mine[k] = (index, name)
        self.seen += len(stems)  # the same on every rank: the sampler gives each as many samples
        return mine
