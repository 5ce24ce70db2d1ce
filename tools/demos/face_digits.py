"""The open-set face protocol on real data: digit classes stand in for identities (no face set is offline).

    python tools/demos/face_digits.py [--work-dir work_dirs/face_digits] [--seeds 0 1 2] [--min-accuracy 0.85]
                                      [--threads 2] [--epochs N] [--cfg-options KEY=VALUE ...]

Steps: fetch the UCI digits (tools/data/fetch_data.py, a no-op when there), write 300 same + 300 different pairs of
digits 7-9 as an insightface .bin (tools/face/make_bin.py, seed 0), then for each committed config
(configs/arcface/iresnet-tiny_digits-openset_{arcface,cosface,softmax}.py) and each seed: train on digits 0-6 only,
embed the pairs with the final weights and report insightface's 10-fold verification accuracy. Every run is
printed and written to WORK_DIR/results.json (rewritten after each run, so a stopped demo keeps the finished
ones; a new demo in the same WORK_DIR replaces it); exit 1 when an ArcFace run is below --min-accuracy.
--cfg-options changes every config alike (e.g. model.embedding.embedding_dim=128), as in tools/train.py, and is
checked against every config before any training.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Sequence

import torch
from mmengine.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from resbackbones.engine.atomic import atomic_path  # noqa: E402
from resbackbones.engine.cfg_options import CfgOptionsAction  # noqa: E402
from resbackbones.engine.cli import ToolParser, build_runner, run_tool  # noqa: E402
from resbackbones.engine.config import load_config, merge_cfg_options  # noqa: E402

HEADS = ('arcface', 'cosface', 'softmax')
CONFIG = os.path.join(ROOT, 'configs', 'arcface', 'iresnet-tiny_digits-openset_{}.py')
PAIRS = 'data/digits_face/pairs_7-9.bin'


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='face_digits.py', description='Open-set verification on the UCI digits.')
    parser.add_argument('--work-dir', default='work_dirs/face_digits')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--heads', nargs='+', choices=HEADS, default=list(HEADS))
    parser.add_argument('--min-accuracy', type=float, default=0.85, help='exit 1 when an ArcFace run is below')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--epochs', type=int, default=None,
                        help="training epochs (default: the configs' max_epochs; the schedule follows)")
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, metavar='KEY=VALUE',
                        help='override keys of every config, as in tools/train.py (paths: relative to the checkout)')
    args = parser.parse_args(argv)
    # main() moves to the checkout: a relative --work-dir landed there, not where the user ran the demo
    args.work_dir = os.path.abspath(args.work_dir)
    if not 0 <= args.min_accuracy <= 1:
        parser.error(f'--min-accuracy is a fraction of pairs in [0, 1] (e.g. 0.85); got {args.min_accuracy}')
    return args


def run_step(what: str, *args: str) -> None:
    done = subprocess.run([sys.executable, *args], cwd=ROOT)
    if done.returncode != 0:
        raise ValueError(f'{what} failed (exit {done.returncode}; its message is above)')


def demo_config(head: str, seed: int, work_dir: str, epochs: int | None = None, options: dict | None = None) -> Config:
    """The committed config of ``head`` with the demo's changes: seed, epochs, --cfg-options, training only."""
    cfg = merge_cfg_options(load_config(CONFIG.format(head)), options)
    if epochs is not None:  # the cosine schedule's end defaults to max_epochs, so it stretches with it
        cfg.train_cfg.max_epochs = cfg.default_hooks.checkpoint.interval = epochs
    cfg.work_dir, cfg.launcher = work_dir, 'none'
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None  # train only; the final weights are tested below
    cfg.test_evaluator.roc_file = os.path.join(work_dir, 'roc.png')
    return cfg


def train_and_verify(head: str, seed: int, work_dir: str, epochs: int | None = None,
                     options: dict | None = None) -> dict:
    runner = build_runner(demo_config(head, seed, work_dir, epochs, options))
    start = time.time()
    runner.train()
    minutes = (time.time() - start) / 60
    metrics = runner.test()
    return dict(head=head, seed=seed, accuracy=metrics['verification/accuracy'],
                accuracy_std=metrics['verification/accuracy_std'], train_minutes=round(minutes, 2),
                tar_at_far_1e2=metrics.get('verification/tar@far=0.01'), cfg_options=options or {})


def check_options(heads: Sequence[str], work_dir: str, epochs: int | None, options: dict | None) -> None:
    """Build every head's model with the --cfg-options before any training: an option that fits one config and
    not another (model.margin_head.margin: the softmax head has none) stopped the demo after the other heads'
    runs, naming neither config nor option."""
    from resbackbones.engine.config import model_config
    from resbackbones.registry import MODELS
    for head in heads:
        try:
            MODELS.build(model_config(demo_config(head, 0, work_dir, epochs, options)))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f'--cfg-options {" ".join(f"{k}={v}" for k, v in (options or {}).items())} do not fit '
                             f'the {head} config ({CONFIG.format(head)}): {err}; leave the {head} head out with '
                             f'--heads') from None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads < 1:
        raise ValueError(f'--threads must be >= 1; got {args.threads}')
    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f'--epochs must be >= 1; got {args.epochs}')
    torch.set_num_threads(args.threads)
    os.chdir(ROOT)  # the configs name data/ relative to the checkout
    run_step('fetching the digits', 'tools/data/fetch_data.py', 'digits')
    if not os.path.isfile(PAIRS):
        run_step('writing the pairs', 'tools/face/make_bin.py', 'data/digits/train', 'data/digits/val',
                 '--identities', '7', '8', '9', '--pairs', '300', '--seed', '0', '--out', PAIRS)
    check_options(args.heads, args.work_dir, args.epochs, args.cfg_options)
    runs = []
    os.makedirs(args.work_dir, exist_ok=True)
    for head in args.heads:
        for seed in args.seeds:
            work_dir = os.path.join(args.work_dir, f'{head}_seed{seed}')
            runs.append(train_and_verify(head, seed, work_dir, args.epochs, args.cfg_options))
            print(f'[face_digits] {head} seed {seed}: 10-fold accuracy {runs[-1]["accuracy"]:.4f} '
                  f'+- {runs[-1]["accuracy_std"]:.4f}, trained in {runs[-1]["train_minutes"]:.1f} min', flush=True)
            # after every run: a later failure kept none of the finished runs
            with atomic_path(os.path.join(args.work_dir, 'results.json')) as tmp, open(tmp, 'w') as f:
                json.dump(runs, f, indent=1)
    print('\nopen-set verification on digits 7-9 (never trained on), 10-fold accuracy per seed:')
    for head in args.heads:
        values = [r['accuracy'] for r in runs if r['head'] == head]
        print(f'  {head:8s} ' + '  '.join(f'{v:.4f}' for v in values) + f'   (min {min(values):.4f})')
    arcface = [r['accuracy'] for r in runs if r['head'] == 'arcface']
    if arcface and min(arcface) < args.min_accuracy:
        print(f'face_digits.py: an ArcFace run is below {args.min_accuracy}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='face_digits.py'))
