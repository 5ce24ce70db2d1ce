"""Where a training iteration's CPU time goes: torch.profiler over a window of a real training run, per operator.

    python tools/profile_training.py configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei_bf16.py --start 300 --iters 30 \
        [--top 30] [--json OUT.json] [--shapes aten::copy_ ...] [--cfg-options KEY=VALUE ...]

The config trains as ``tools/train.py`` would (its runner, loader workers, hooks and schedule) up to iteration
``--start``, then ``--iters`` iterations run under ``torch.profiler`` and the run stops; no validation, no
checkpoints. Prints the operators by self CPU time, in ms per profiled iteration, and with ``--json`` writes
``{operator: [ms per iteration, calls per iteration]}``, so that two configs (fp32 and its bf16 switch) can be
compared operator by operator. ``--shapes OP ...`` also records input shapes and prints those operators' time
split by their inputs' shapes (which casts, which layers). The profiler slows small operators, so compare profiles
with each other, not with timings taken without it (tools/benchmark_cpu_training.py).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import torch
from mmengine.config import Config
from mmengine.hooks import Hook

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import resbackbones  # noqa: E402,F401  (registers the models, datasets and hooks)
from resbackbones.engine.cfg_options import CfgOptionsAction  # noqa: E402
from resbackbones.engine.cli import build_runner  # noqa: E402
from resbackbones.engine.atomic import atomic_path  # noqa: E402


class WindowDone(Exception):
    """Raised after the profiled window to end the run: an epoch-based loop reads only its epoch count, so
    lowering ``_max_iters`` left it training to the end of the schedule."""


class ProfileWindow(Hook):
    """Profiles iterations ``start`` .. ``start + iters - 1`` of the run, then ends it."""

    priority = 'VERY_HIGH'

    def __init__(self, start: int, iters: int, shapes_of: tuple[str, ...] = ()):
        self.start, self.iters, self.shapes_of = start, iters, shapes_of
        self.profiler: torch.profiler.profile | None = None
        self.per_op: dict[str, list[float]] = {}
        self.per_shape: dict[str, list[tuple[str, float, float]]] = {}  # op -> (inputs, ms/iter, calls/iter)
        self.seconds_per_iter = 0.0
        self.began = 0.0

    def before_train(self, runner) -> None:
        runner.train_loop._max_iters = self.start + self.iters  # schedules stay as configured for the full run

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if runner.iter == self.start:
            self.profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                                   record_shapes=bool(self.shapes_of))
            self.profiler.__enter__()
            self.began = time.perf_counter()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.profiler is not None and runner.iter + 1 == self.start + self.iters:
            self.seconds_per_iter = (time.perf_counter() - self.began) / self.iters
            self.profiler.__exit__(None, None, None)
            self.per_op = {event.key: [event.self_cpu_time_total / 1e3 / self.iters, event.count / self.iters]
                           for event in self.profiler.key_averages()}
            if self.shapes_of:
                for event in self.profiler.key_averages(group_by_input_shape=True):
                    if event.key in self.shapes_of:
                        self.per_shape.setdefault(event.key, []).append(
                            (str(event.input_shapes), event.self_cpu_time_total / 1e3 / self.iters,
                             event.count / self.iters))
            self.profiler = None
            raise WindowDone


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--start', type=int, default=50, help='iterations trained before the profiled window')
    parser.add_argument('--iters', type=int, default=20, help='profiled iterations')
    parser.add_argument('--top', type=int, default=30, help='operators printed')
    parser.add_argument('--json', help='write {operator: [ms per iteration, calls per iteration]} here')
    parser.add_argument('--shapes', nargs='+', default=[], metavar='OP',
                        help="operators (e.g. aten::copy_) whose time is also printed by input shapes")
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={})
    args = parser.parse_args(argv)
    if not os.path.isfile(args.config):
        parser.error(f'config not found: {args.config}')
    if args.start < 0 or args.iters < 1 or args.top < 1:
        parser.error(f'--start must be >= 0, --iters and --top >= 1; got {args.start}, {args.iters}, {args.top}')
    folder = os.path.dirname(os.path.abspath(args.json)) if args.json else None
    if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):  # found out only after the run
        parser.error(f'--json {args.json}: folder {folder} does not exist or is not writable')
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    window = ProfileWindow(args.start, args.iters, tuple(args.shapes))
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        cfg.train_cfg.val_interval = 10**9
        cfg.default_hooks.checkpoint = None
        runner = build_runner(cfg)
        # an epoch-based schedule was trained to its end (validation included) before the window was found missing
        max_iters = cfg.train_cfg.get('max_iters') or cfg.train_cfg.get('max_epochs', 0) * len(runner.train_dataloader)
        if args.start + args.iters > max_iters:
            raise SystemExit(f'profile_training.py: --start + --iters = {args.start + args.iters} is past the '
                             f"config's {max_iters} training iterations")
        runner.register_hook(window)
        try:
            runner.train()
        except WindowDone:
            pass
    if not window.per_op:
        raise SystemExit('profile_training.py: the run ended before the profiled window (an epoch-based loop '
                         'with fewer iterations?)')
    total = sum(ms for ms, _ in window.per_op.values())
    print(f'{args.config}: iterations {args.start}-{args.start + args.iters - 1}, '
          f'{window.seconds_per_iter * 1e3:.1f} ms per iteration under the profiler, '
          f'{total:.1f} ms self CPU time, torch threads {torch.get_num_threads()}')
    print(f"{'operator':<60} {'ms/iter':>9} {'calls/iter':>11}")
    for name, (ms, calls) in sorted(window.per_op.items(), key=lambda kv: -kv[1][0])[:args.top]:
        print(f'{name[:60]:<60} {ms:9.2f} {calls:11.1f}')
    for name in args.shapes:
        rows = sorted(window.per_shape.get(name, []), key=lambda row: -row[1])
        if not rows:
            print(f'\n{name}: not called in the profiled window (names as in the table above, e.g. aten::copy_)')
            continue
        print(f'\n{name} by inputs ({len(rows)} kinds; the {min(len(rows), args.top)} slowest)')
        for inputs, ms, calls in rows[:args.top]:
            print(f'{ms:9.3f} ms {calls:7.1f}x  {inputs[:160]}')
    if args.json:
        with atomic_path(args.json) as tmp, open(tmp, 'w') as f:
            json.dump(window.per_op, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
