"""Distributed set-up that picks the backend from the hardware: NCCL on CUDA, gloo on CPU.

mmengine's ``init_dist`` always calls ``torch.cuda.set_device`` and its DDP wrapper passes ``device_ids``, so
both fail on a CPU-only machine. These helpers keep mmengine's path on CUDA and do the CPU equivalent otherwise.
"""
from __future__ import annotations

import datetime
import os
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.dist import init_dist
from mmengine.registry import MODEL_WRAPPERS
from torch import nn

AUTO = 'auto'


def resolve_backend(backend: str | None) -> str:
    """'auto' (or None) -> 'nccl' when CUDA is available, else 'gloo'; an explicit backend is kept."""
    if backend in (None, AUTO):
        return 'nccl' if torch.cuda.is_available() else 'gloo'
    return backend


def init_distributed(launcher: str, dist_cfg: dict) -> str:
    """Initialise the default process group for ``launcher`` ('pytorch' or 'slurm'); returns the backend used.

    ``dist_cfg`` is the config's ``env_cfg.dist_cfg``: ``backend`` ('auto', 'nccl', 'gloo'), ``timeout`` in
    seconds, and other ``init_process_group`` arguments.
    """
    cfg = dict(dist_cfg)
    backend = resolve_backend(cfg.pop('backend', AUTO))
    if torch.cuda.is_available():
        init_dist(launcher, backend=backend, **cfg)
        return backend
    if launcher == 'slurm':
        _slurm_env(cfg.pop('port', None))
    elif launcher != 'pytorch':
        raise ValueError(f"launcher {launcher!r} is not supported on CPU; use 'pytorch' (torchrun) or 'slurm'")
    if cfg.get('timeout') is not None:
        cfg['timeout'] = datetime.timedelta(seconds=cfg['timeout'])
    torch_dist.init_process_group(backend=backend, **cfg)
    return backend


def _slurm_env(port: int | None) -> None:
    """Set torch's env:// variables from SLURM's (what mmengine's slurm launcher does, minus the CUDA calls)."""
    needed = ('SLURM_PROCID', 'SLURM_NTASKS') + (() if 'MASTER_ADDR' in os.environ else ('SLURM_NODELIST',))
    missing = [name for name in needed if name not in os.environ]
    if missing:  # a KeyError's text alone ('error: SLURM_PROCID') said nothing of the launcher
        raise ValueError(f"launcher 'slurm' needs {', '.join(missing)} from SLURM: run it under srun "
                         f'(tools/slurm_train.sh), or use --launcher pytorch with torchrun')
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    os.environ['MASTER_PORT'] = str(port or os.environ.get('MASTER_PORT', 29500))
    if 'MASTER_ADDR' not in os.environ:
        nodes = subprocess.check_output(['scontrol', 'show', 'hostnames', os.environ['SLURM_NODELIST']], text=True)
        os.environ['MASTER_ADDR'] = nodes.split()[0]


def wrap_cpu_ddp(model: nn.Module, model_wrapper_cfg: dict | None, find_unused_parameters: bool) -> nn.Module:
    """DDP for a CPU model: mmengine's wrapper (default MMDistributedDataParallel) without ``device_ids``."""
    cfg = dict(model_wrapper_cfg or dict(broadcast_buffers=False, find_unused_parameters=find_unused_parameters))
    cfg.setdefault('type', 'MMDistributedDataParallel')
    return MODEL_WRAPPERS.build(cfg, default_args=dict(module=model))
