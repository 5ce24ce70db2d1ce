"""The demo: fetch the UCI handwritten digits, train ResNet-18 on them on CPU, report held-out accuracy, plot curves.

    python tools/demo.py [--work-dir work_dirs/resnet18_digits] [--data-root data] [--min-accuracy 97]
                         [--threads 1] [--cfg-options KEY=VALUE ...]

Steps: tools/data/fetch_data.py digits (a no-op when the data is there), training with
configs/classification/resnet18_digits.py, evaluation of the final weights on data/digits/val (a stratified 20%
never trained on), and tools/analysis/plot_curves.py for WORK_DIR/curves.png. Exits 1 when the held-out top-1
accuracy is below --min-accuracy, 2 on a bad input (one line on stderr).

--threads 1 (default): the 8x8 model is too small to gain much from torch's intra-op threads, and on a machine
whose cores are busy they wait on each other (measured: 0.15 s vs 5 s per iteration on a loaded 2-core box).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import Sequence

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run from a checkout too

from resbackbones.engine.cfg_options import CfgOptionsAction  # noqa: E402
from resbackbones.engine.cli import ToolParser, build_runner, run_tool  # noqa: E402
from resbackbones.engine.config import load_config, merge_cfg_options  # noqa: E402

CONFIG = os.path.join(ROOT, 'configs', 'classification', 'resnet18_digits.py')


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='demo.py', description='Train ResNet-18 on the UCI digits and report accuracy.')
    parser.add_argument('--work-dir', default='work_dirs/resnet18_digits', help='logs, checkpoints, curves.png')
    parser.add_argument('--data-root', default='data', help='where fetch_data.py puts digits/ (default: data)')
    parser.add_argument('--min-accuracy', type=float, default=97.0, help='exit 1 below this held-out top-1 (%%)')
    parser.add_argument('--threads', type=int, default=1, help="torch CPU threads (0: torch's default, one per core)")
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, metavar='KEY=VALUE',
                        help='override keys of the config, e.g. train_cfg.max_epochs=5')
    args = parser.parse_args(argv)
    if args.min_accuracy <= 1:  # a fraction (face_digits.py's unit) passed every run
        parser.error(f'--min-accuracy is a percentage (e.g. 97), not a fraction; got {args.min_accuracy}')
    return args


def run_step(what: str, *args: str) -> None:
    """Run a tools/ script with this interpreter; ValueError (one line) when it fails (its own error shows above)."""
    done = subprocess.run([sys.executable, *args])
    if done.returncode != 0:
        raise ValueError(f'{what} failed (exit {done.returncode}; its message is above)')


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads < 0:
        raise ValueError(f'--threads must be >= 0 (0: one per core); got {args.threads}')
    if args.threads:
        torch.set_num_threads(args.threads)
    digits = os.path.join(os.path.abspath(args.data_root), 'digits')
    run_step('fetching the digits', os.path.join(ROOT, 'tools', 'data', 'fetch_data.py'), 'digits',
             '--root', args.data_root)

    cfg = load_config(CONFIG)
    merge_cfg_options(cfg, {'train_dataloader.dataset.data_root': os.path.join(digits, 'train'),
                            'val_dataloader.dataset.data_root': os.path.join(digits, 'val'),
                            'test_dataloader.dataset.data_root': os.path.join(digits, 'val'),
                            **(args.cfg_options or {})})
    cfg.work_dir, cfg.launcher = args.work_dir, 'none'
    start = time.time()
    runner = build_runner(cfg)
    runner.train()
    trained = time.time() - start
    metrics = runner.test()  # the final weights on the held-out split (no best-epoch picking on it)

    curves = os.path.join(args.work_dir, 'curves.png')
    run_step('plotting the curves', os.path.join(ROOT, 'tools', 'analysis', 'plot_curves.py'), args.work_dir,
             '--out', curves)
    top1 = metrics['accuracy/top1']
    print(f'\nheld-out accuracy on {os.path.join(digits, "val")} ({len(runner.test_dataloader.dataset)} images '
          f'never trained on): top-1 {top1:.2f}%, top-5 {metrics.get("accuracy/top5", float("nan")):.2f}%')
    device = next(runner.model.parameters()).device
    print(f'trained {cfg.train_cfg.max_epochs} epochs in {trained / 60:.1f} min on {device}; logs and checkpoints '
          f'in {args.work_dir}; curves in {curves}')
    if top1 < args.min_accuracy:
        print(f'demo.py: held-out top-1 {top1:.2f}% is below the {args.min_accuracy}% target', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='demo.py'))
