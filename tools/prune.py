"""Prune the inner channels of a trained ResNet's blocks; write a config and checkpoint to fine-tune and test.

    python tools/prune.py CONFIG CHECKPOINT --ratio 0.5 [--criterion bn|l1] [--divisor 1] --out DIR
                          [--shape [T] H W] [--cfg-options KEY=VALUE ...]

Removes ``ratio`` of every block's inner channels (resbackbones/deploy/prune.py): the lowest |BN scale| ('bn',
network slimming) or conv filter L1 norm ('l1'). Writes DIR atomically (both files or none): DIR/pruned.pth
(the kept weights; loads strictly into the pruned config) and DIR/<config name>_pruned.py (the full config with
``model.backbone.block_widths`` set and ``load_from`` = DIR/pruned.pth, so tools/train.py fine-tunes it and
tools/test.py evaluates it like any other config). DIR must be new or hold only these files. Prints parameters
and GMACs (of the backbone, on one input of --shape, default the shape of a real test batch) before and after.
A bad input (missing file, ratio outside [0, 1), checkpoint not matching the config): one line, exit status 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too
import torch  # noqa: E402

from resbackbones.analysis import count_gmacs, count_params  # noqa: E402
from resbackbones.deploy.loading import load_task_model, real_batches  # noqa: E402
from resbackbones.deploy.prune import CRITERIA, prune_model  # noqa: E402
from resbackbones.engine.atomic import atomic_dir, check_replaceable  # noqa: E402
from resbackbones.engine.cfg_options import CfgOptionsAction  # noqa: E402
from resbackbones.engine.cli import ToolParser, check_checkpoint, run_tool  # noqa: E402
from resbackbones.engine.config import load_config, merge_cfg_options  # noqa: E402
from resbackbones.weights.io import read_checkpoint  # noqa: E402

CHECKPOINT_NAME = 'pruned.pth'


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='prune.py', description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint (.pth) matching the config')
    parser.add_argument('--ratio', type=float, required=True, help="fraction of each block's inner channels to "
                        'remove, in [0, 1)')
    parser.add_argument('--criterion', default='bn', choices=CRITERIA, help='channel ranking (default bn)')
    parser.add_argument('--divisor', type=int, default=1, help='kept widths are multiples of this (default 1)')
    parser.add_argument('--out', required=True, help=f'output folder for {CHECKPOINT_NAME} and the config')
    parser.add_argument('--shape', type=int, nargs='+', metavar='SIZE',
                        help='input size for the GMAC count: H W, or T H W for 3D backbones (default: that of a '
                             'real test batch)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, metavar='KEY=VALUE',
                        help='override config keys before pruning; the written config keeps them')
    args = parser.parse_args(argv)
    if not 0 <= args.ratio < 1:
        parser.error(f'--ratio must be in [0, 1); got {args.ratio}')
    if args.divisor < 1:
        parser.error(f'--divisor must be >= 1; got {args.divisor}')
    if args.shape is not None and (len(args.shape) not in (2, 3) or min(args.shape) < 1):
        parser.error(f'--shape takes two (H W) or three (T H W) positive sizes; got {args.shape}')
    return args


def backbone_input(model: torch.nn.Module, test_shape: tuple[int, ...], sizes: Sequence[int] | None
                   ) -> tuple[tuple[int, ...], int]:
    """(C, [T,] H, W) of one backbone input and the batch the GMACs are counted on: one clip of ``num_segments``
    frames for frame backbones (TSM, TIN, TANet), else 1. ``test_shape``: a real test batch's sample shape, whose
    leading clip or segment axes the recognizer folds into the batch; ``sizes``: --shape, if given."""
    backbone = getattr(model, 'backbone', model)
    factory = getattr(backbone, 'layer_factory', None)
    sample_axes = (factory.dims if factory is not None else 2) + 1  # C, then ([T,] H, W)
    frames = getattr(backbone, 'num_segments', 1)
    if sizes is None:
        return tuple(test_shape[-sample_axes:]), frames
    if len(sizes) != sample_axes - 1:
        raise ValueError(f'--shape: {type(backbone).__name__} takes {sample_axes - 1} sizes '
                         f'({"T H W" if sample_axes == 4 else "H W"}); got {list(sizes)}')
    return (getattr(backbone, 'in_channels', 3), *sizes), frames


def complexity(model: torch.nn.Module, shape: tuple[int, ...], batch: int) -> str:
    backbone = getattr(model, 'backbone', model)
    return (f'params {count_params(model) / 1e6:.4f} M (backbone {count_params(backbone) / 1e6:.4f} M), '
            f'backbone GMACs {count_gmacs(backbone, shape, batch=batch):.5f}')


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    check_checkpoint(args.checkpoint, 'CHECKPOINT')
    config_name = f'{os.path.splitext(os.path.basename(args.config))[0]}_pruned.py'
    def earlier_prune(names) -> bool:  # an --out this tool wrote before may be replaced
        return set(names) <= {CHECKPOINT_NAME, config_name}
    check_replaceable(args.out, earlier_prune, '--out', inputs={'CONFIG': args.config,
                                                                'CHECKPOINT': args.checkpoint})
    model = load_task_model(cfg, args.checkpoint)
    pruned, backbone_cfg = prune_model(model, cfg.model, args.ratio, args.criterion, args.divisor)
    test_shape = tuple(real_batches(cfg, model, 'test', 1)[0].shape[1:]) if args.shape is None else ()
    shape, batch = backbone_input(model, test_shape, args.shape)
    print(f'input {"x".join(map(str, (batch, *shape)))}{f" (one clip of {batch} frames)" if batch > 1 else ""}; '
          f'ratio {args.ratio}, criterion {args.criterion}')
    print(f'before: {complexity(model, shape, batch)}')
    print(f'after:  {complexity(pruned, shape, batch)}')
    print(f'block_widths: {backbone_cfg["block_widths"]}')
    if 'backbone' in cfg.model:
        cfg.model.backbone = backbone_cfg
        # load_from gives every weight; a model-level Pretrained (the AVA configs') loaded the full-width file first
        cfg.model.init_cfg = None
        cfg.model.pop('pretrained', None)
    else:
        cfg.model = backbone_cfg
    cfg.load_from = os.path.abspath(os.path.join(args.out, CHECKPOINT_NAME))  # fine-tuning from any folder
    cfg.resume = False
    meta = dict(pruned_from=args.checkpoint, ratio=args.ratio, criterion=args.criterion, divisor=args.divisor,
                block_widths=backbone_cfg['block_widths'])
    trained_on = read_checkpoint(args.checkpoint).meta.get('dataset_meta')
    if trained_on is not None:  # tools/test.py compares its classes with the test set's
        meta['dataset_meta'] = trained_on
    text = f'# Pruned by tools/prune.py from {args.config} and {args.checkpoint}: {meta}\n{cfg.pretty_text}'
    with atomic_dir(args.out, earlier_prune, '--out') as tmp:
        torch.save({'state_dict': pruned.state_dict(), 'meta': meta}, os.path.join(tmp, CHECKPOINT_NAME))
        with open(os.path.join(tmp, config_name), 'w', encoding='utf-8') as f:
            f.write(text)
    print(f'wrote {os.path.join(args.out, CHECKPOINT_NAME)} and {os.path.join(args.out, config_name)}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='prune.py'))
