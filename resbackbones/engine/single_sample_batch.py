"""A training batch of one sample, which BatchNorm cannot train on.

With ``drop_last=False`` (mmengine's default) the last batch of an epoch holds what is left over; when that is one
sample and a BatchNorm layer sees a single value per channel (a 1x1 feature map), PyTorch stops the run at the end
of the first epoch with "Expected more than 1 value per channel when training", which names neither the loader
nor the cure. :func:`single_sample_warning` says so before training starts, and :func:`explain_single_sample` turns
the error into one that names the loader's numbers and the two fixes. :func:`check_batches` refuses the other end:
an epoch that yields no batch at all.
"""
from __future__ import annotations

from mmengine.dataset import InfiniteSampler
from mmengine.dist import get_world_size
from torch import nn
from torch.utils.data import DataLoader

TORCH_MESSAGE = 'Expected more than 1 value per channel when training'


def last_batch_size(loader: DataLoader) -> int | None:
    """The size of the last batch an epoch of ``loader`` yields in this process; None when the loader's batches
    are not fixed-size (a custom batch sampler), its sampler has no length or never ends an epoch."""
    batch_size = getattr(loader, 'batch_size', None)
    if isinstance(loader.sampler, InfiniteSampler):
        return None
    try:
        samples = len(loader.sampler)
    except TypeError:
        return None
    if not batch_size or samples == 0:
        return None
    if loader.drop_last:
        return batch_size if samples >= batch_size else None
    return samples % batch_size or batch_size


def _describe(loader: DataLoader) -> str:
    return (f'train_dataloader: the last batch of every epoch holds 1 sample ({len(loader.sampler)} samples per '
            f'process, batch_size={loader.batch_size})')


def single_sample_warning(loader: DataLoader, model: nn.Module) -> str | None:
    """A warning when ``loader``'s last batch is one sample and ``model`` has BatchNorm layers that train."""
    if last_batch_size(loader) != 1:
        return None
    if not any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in model.modules()):
        return None
    return (f'{_describe(loader)}: BatchNorm normalises it by its own statistics, and fails on a 1x1 feature map; '
            f'set train_dataloader.drop_last=True or a batch_size that leaves another remainder')


def explain_single_sample(err: BaseException, loader: DataLoader) -> ValueError | None:
    """The ValueError to raise instead of BatchNorm's one-value error ``err`` (None for any other error)."""
    if not isinstance(err, ValueError) or TORCH_MESSAGE not in str(err) or last_batch_size(loader) != 1:
        return None
    return ValueError(f'{_describe(loader)}, and BatchNorm cannot train on one value per channel ({err}); set '
                      f'train_dataloader.drop_last=True or a batch_size that leaves another remainder')


def check_batches(dataloader, name: str = 'train_dataloader') -> None:
    """ValueError naming the loader's numbers when an epoch has no batch (fewer samples per rank than a batch, with
    drop_last): for training mmengine stopped on a bare assertion ('epoch_length must be a positive integer'), for
    validation a whole training epoch later, with a metric's 'is the evaluation dataset empty?'."""
    if len(dataloader) == 0:
        raise ValueError(f'{name} gives no batch per epoch: {len(dataloader.dataset)} samples over '
                         f'{get_world_size()} '
                         f'process(es), batch_size {dataloader.batch_size}, drop_last {dataloader.drop_last}; '
                         f'lower the batch size or set drop_last=False')
