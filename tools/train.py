"""Train a model from a config (mmdet/mmpretrain interface).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--auto-scale-lr]
                          [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm]

Many processes: tools/dist_train.sh CONFIG NPROC [args] (torchrun; gloo on CPU, NCCL on GPU, chosen automatically).
A bad input (missing config, unknown --cfg-options key, missing dataset folder ...) prints one line and exits 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

import torch
from mmengine.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too
from resbackbones.engine.cli import (ToolParser, add_common_args, build_runner, check_checkpoint,  # noqa: E402
                                     config_from_args, run_tool)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='train.py', description='Train a model from an mmengine config.')
    parser.add_argument('config', help='config file, e.g. configs/classification/resnet18_digits.py')
    parser.add_argument('--resume', nargs='?', const='auto', metavar='CKPT',
                        help='resume from CKPT, or with no value from the latest checkpoint in the work_dir')
    parser.add_argument('--amp', action='store_true', help='mixed precision training (needs a CUDA GPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by (total batch size / auto_scale_lr.base_batch_size)')
    add_common_args(parser)
    return parser.parse_args(argv)


def apply_train_args(cfg: Config, args: argparse.Namespace) -> Config:
    """--amp, --auto-scale-lr and --resume into ``cfg``; ValueError / FileNotFoundError when they cannot apply."""
    if args.amp:
        if not torch.cuda.is_available():
            raise ValueError('--amp needs a CUDA GPU (mmengine AmpOptimWrapper); none is available here')
        if cfg.optim_wrapper.get('type', 'OptimWrapper') not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f"--amp: optim_wrapper.type is {cfg.optim_wrapper.type!r}; expected 'OptimWrapper'")
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'base_batch_size' not in (cfg.get('auto_scale_lr') or {}):
            raise ValueError(f'--auto-scale-lr: {args.config} has no auto_scale_lr.base_batch_size (the total batch '
                             f'size its lr was tuned for)')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, check_checkpoint(args.resume, '--resume')
    return cfg


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = apply_train_args(config_from_args(args), args)
    build_runner(cfg).train()
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='train.py'))
