"""Checkpoints of row-sharded parameters (Partial FC's class centres) hold the whole matrix, whatever the world size.

A sharded head keeps rows ``start .. start + rows - 1`` of a ``total``-row matrix on each rank (``shard_rows()``),
and lists those parameters in ``rank_local_parameters``. mmengine saves checkpoints from rank 0 alone, which would
keep rank 0's rows only, and every rank would then load them on resume. So before a checkpoint is written every
rank sends its rows (and the optimizer's per-row state for them: momentum, Adam moments) to rank 0, which writes
the full matrices; on loading, each rank keeps its own rows of them (the head's ``_load_from_state_dict`` for the
weights, :func:`take_own_rows` for the optimizer state). A checkpoint so written loads on any number of ranks,
and in one process it is the unsharded head. insightface instead writes one file per rank, which only resumes on
the same world size.
"""
from __future__ import annotations

from typing import Any, Iterator

import torch
import torch.distributed as dist
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn


def sharded_parameters(model: nn.Module) -> Iterator[tuple[str, nn.Parameter, int, int, int]]:
    """(state-dict key, parameter, first row, rows, total rows) of every row-sharded parameter of ``model``."""
    inner = model.module if is_model_wrapper(model) else model
    for prefix, module in inner.named_modules():
        for name in getattr(module, 'rank_local_parameters', ()):
            start, rows, total = module.shard_rows()
            yield f'{prefix}.{name}' if prefix else name, getattr(module, name), start, rows, total


def _optimizers(optim_wrapper: Any) -> list[tuple[str | None, torch.optim.Optimizer]]:
    """(name in an OptimWrapperDict or None, optimizer) of a built wrapper; none for a config dict."""
    if isinstance(optim_wrapper, OptimWrapperDict):
        return [(name, w.optimizer) for name, w in optim_wrapper.optim_wrappers.items()]
    if isinstance(optim_wrapper, OptimWrapper):
        return [(None, optim_wrapper.optimizer)]
    return []


def _state_index(optimizer: torch.optim.Optimizer, param: nn.Parameter) -> int | None:
    """The integer id ``optimizer.state_dict()`` gives ``param`` (params numbered over the groups in order)."""
    index = 0
    for group in optimizer.param_groups:
        for p in group['params']:
            if p is param:
                return index
            index += 1
    return None


def _row_state(optimizer: torch.optim.Optimizer, param: nn.Parameter) -> dict[str, torch.Tensor]:
    """The optimizer's per-row state of ``param`` (tensors shaped like it), by key."""
    return {k: v for k, v in optimizer.state.get(param, {}).items()
            if isinstance(v, torch.Tensor) and v.shape == param.shape}


def _gather_rows(local: torch.Tensor, total: int) -> torch.Tensor | None:
    """Every rank's rows of a ``total``-row matrix, in rank order, on rank 0 (None elsewhere). Collective."""
    world, rank = dist.get_world_size(), dist.get_rank()
    most = -(-total // world)  # the first ranks hold one row more: pad every shard to that
    padded = local.new_zeros((most, *local.shape[1:]))
    padded[:len(local)] = local.detach()
    parts = [torch.empty_like(padded) for _ in range(world)] if rank == 0 else None
    dist.gather(padded, parts, dst=0)
    if rank != 0:
        return None
    sizes = [total // world + int(r < total % world) for r in range(world)]
    return torch.cat([part[:size] for part, size in zip(parts, sizes)]).cpu()


def gather_full_rows(model: nn.Module, optim_wrapper: Any, averaged: nn.Module | None = None) -> dict[str, Any]:
    """The full matrices of the sharded parameters and of their optimizer state, on rank 0, for the checkpoint.

    Collective: every rank must call it (SafeRunner.save_checkpoint does, on every rank, before rank 0 writes).
    Returns ``{'state_dict': {key: full}, 'optimizer': [(wrapper name, state id, {state key: full})],
    'averaged': {key: full}}`` on rank 0 (``averaged``: the same parameters of an EMA copy of the model, given as
    ``averaged``), an empty dict elsewhere and in one process (where the local rows are the matrix).
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return {}
    gathered: dict[str, Any] = {'state_dict': {}, 'optimizer': [], 'averaged': {}}
    for key, param, _, _, total in sharded_parameters(averaged) if averaged is not None else ():
        gathered['averaged'][key] = _gather_rows(param, total)
    for key, param, _, _, total in sharded_parameters(model):
        gathered['state_dict'][key] = _gather_rows(param, total)
        for name, optimizer in _optimizers(optim_wrapper):
            index = _state_index(optimizer, param)
            if index is None:
                continue
            state = _row_state(optimizer, param)
            # every rank steps the same optimizer, so every rank has the same state keys (none before a step)
            gathered['optimizer'].append((name, index, {k: _gather_rows(v, total) for k, v in sorted(state.items())}))
    return gathered if dist.get_rank() == 0 else {}


def insert_full_rows(checkpoint: dict, gathered: dict[str, Any]) -> None:
    """Put :func:`gather_full_rows`'s matrices into the checkpoint rank 0 is about to write, in place, after the
    hooks' ``before_save_checkpoint``: mmengine's EMAHook then has put the averaged weights (rank 0's rows only)
    under 'state_dict' and the model's own under 'ema_state_dict' ('module.' keys); both get whole matrices."""
    ema = checkpoint.get('ema_state_dict')
    for key, full in gathered.get('state_dict', {}).items():
        if isinstance(ema, dict) and f'module.{key}' in ema and key in gathered.get('averaged', {}):
            ema[f'module.{key}'] = full
            checkpoint['state_dict'][key] = gathered['averaged'][key]
        else:
            checkpoint['state_dict'][key] = full
    for name, index, state in gathered.get('optimizer', []):
        if 'optimizer' not in checkpoint:  # save_optimizer=False
            break
        target = checkpoint['optimizer'] if name is None else checkpoint['optimizer'][name]
        # a new dict: optimizer.state_dict() shares its per-parameter dicts with the live optimizer
        target['state'][index] = {**target['state'].get(index, {}), **state}


def take_own_rows(checkpoint: dict, model: nn.Module, optim_wrapper: Any, source: str = 'checkpoint') -> None:
    """Cut the optimizer state of the sharded parameters in ``checkpoint`` down to this rank's rows, in place
    (the weights themselves are cut by the head as it loads them). A checkpoint holding another number of rows
    than the whole matrix (a rank's shard, written before full matrices were) is refused on several ranks."""
    optimizer_state = checkpoint.get('optimizer')
    if not isinstance(optimizer_state, dict):
        return
    for key, param, start, rows, total in sharded_parameters(model):
        if rows == total:
            continue  # one process: the whole matrix is this rank's
        for name, optimizer in _optimizers(optim_wrapper):
            index = _state_index(optimizer, param)
            states = optimizer_state if name is None else optimizer_state.get(name, {})
            entry = states.get('state', {}).get(index) if index is not None else None
            for state_key, value in (entry or {}).items():
                if not isinstance(value, torch.Tensor) or value.shape[1:] != param.shape[1:] or value.dim() == 0:
                    continue
                if len(value) != total:
                    raise ValueError(f'{source}: the optimizer state {state_key!r} of {key} has {len(value)} rows, '
                                     f'not the {total} of the whole matrix (a checkpoint written by one rank of a '
                                     f'sharded run?); it cannot give rank {dist.get_rank()} its rows '
                                     f'{start}..{start + rows - 1}')
                entry[state_key] = value[start:start + rows]


def own_rows(full: torch.Tensor, key: str, start: int, rows: int, total: int) -> torch.Tensor:
    """This rank's rows of a loaded matrix, for a sharded head's ``_load_from_state_dict``. In one process the
    matrix is the head's (a size mismatch is load_state_dict's to report); on several ranks a matrix of another
    height than the whole (one rank's shard, from a checkpoint written before they held the whole matrix) is
    refused: it cannot say which rows are whose."""
    if rows == total:
        return full
    if full.dim() == 0 or len(full) != total:
        raise ValueError(f'{key}: the checkpoint holds {len(full) if full.dim() else 0} rows, not the {total} of the '
                         f'whole matrix (one rank\'s shard?), so it cannot give this rank its rows {start}..'
                         f'{start + rows - 1}; of such a checkpoint only the backbone and embedding are usable')
    return full[start:start + rows]
