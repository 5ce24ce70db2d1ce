"""Training-step speed of a config against its CPU bf16 variant, alternating in one process (docs/deploy.md).

    python tools/benchmark_cpu_training.py configs/unet/unet_r34_nuclei.py configs/unet/unet_r34_nuclei_bf16.py \
        [--rounds 9] [--steps 5] [--threads N] [--with-loading] [--cfg-options KEY=VALUE ...] \
        [--baseline-options KEY=VALUE ...]

The two configs may be one config with different ``--baseline-options`` / ``--variant-options``, e.g. a Mask
R-CNN config against itself with ``--baseline-options model.roi_head.roi_align_impl=torchvision``.

Both configs build their runner as ``tools/train.py`` does (the config's ``runner_type``, so ``env_cfg`` applies;
its process-wide settings such as ``env_cfg.malloc`` then hold for both sides), their model, optimizer wrapper
and hooks' ``before_run`` (so the bf16 config's ChannelsLastHook and CPUAmpOptimWrapper act) with the same seed; both then train on the same pre-loaded batches of
the first config's training set, round after round: ``--steps`` train steps of one, then of the other, the order
alternating by round. A whole training run alternating by seed (tools/demos/bf16_training.sh) is at the mercy of
load that changes over minutes; steps timed seconds apart share it. Timed is ``model.train_step`` (forward,
loss, backward, optimizer step): data loading is the same for both and runs beside it in loader workers.
``--with-loading`` times whole iterations instead: each config draws from its own training loader, built as the
config says (its workers too, which share the cores with the step, as in a run), and a timed step is the fetch of
the next batch plus ``train_step``; both loaders' samplers and workers take seed 0, so with loader workers both
train on the same batches. Prints
each config's median seconds per step, the median of the per-round ratios first/second (> 1: the second is
faster) with their range, and one line of json.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Iterator

import torch
from mmengine.config import Config
from mmengine.runner import Runner

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import resbackbones  # noqa: E402,F401  (registers the models, datasets and hooks)
from resbackbones.engine.cfg_options import CfgOptionsAction  # noqa: E402
from resbackbones.engine.cli import build_runner, run_tool  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('baseline', help='config of the reference (e.g. the fp32 config)')
    parser.add_argument('variant', help='config of the variant (e.g. its _bf16 switch)')
    parser.add_argument('--rounds', type=int, default=9, help='timed rounds (median of per-round ratios)')
    parser.add_argument('--steps', type=int, default=5, help='train steps per config per round')
    parser.add_argument('--warmup', type=int, default=3, help='untimed train steps per config first')
    parser.add_argument('--threads', type=int, default=None, help="torch CPU threads (default: torch's own)")
    parser.add_argument('--with-loading', action='store_true',
                        help="time the fetch of each batch from the config's own loader (workers as configured) too")
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={},
                        help='overrides applied to both configs')
    parser.add_argument('--baseline-options', nargs='+', action=CfgOptionsAction, default={},
                        help='overrides applied to the baseline only (after --cfg-options)')
    parser.add_argument('--variant-options', nargs='+', action=CfgOptionsAction, default={},
                        help='overrides applied to the variant only (after --cfg-options)')
    args = parser.parse_args(argv)
    for name in ('rounds', 'steps'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be >= 1; got {getattr(args, name)}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0; got {args.warmup}')
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1; got {args.threads}')
    for path in (args.baseline, args.variant):
        if not os.path.isfile(path):
            parser.error(f'config not found: {path}')
    return args


def build(config: str, options: dict, work_dir: str, keep_workers: bool = False) -> Runner:
    """A runner with its model, optimizer wrapper and hooks' before_run applied, seed 0; no loader workers unless
    ``keep_workers``."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    if not keep_workers:
        cfg.train_dataloader.num_workers = 0
        cfg.train_dataloader.persistent_workers = False
    cfg.log_level = 'WARNING'
    runner = build_runner(cfg)  # the config's runner (SafeRunner), so its env_cfg (malloc settings) applies as in a run
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.call_hook('before_run')
    runner.model.train()
    return runner


def batches(runner: Runner, count: int) -> list[Any]:
    """``count`` training batches from the runner's training set (its sampler and pipeline)."""
    loader = runner.build_dataloader(runner.cfg.train_dataloader)
    out: list[Any] = []
    while len(out) < count:
        before = len(out)
        out.extend(batch for batch, _ in zip(loader, range(count - len(out))))
        if len(out) == before:  # a set smaller than one batch with drop_last: the loop spun for ever
            settings = runner.cfg.train_dataloader
            raise ValueError(f'train_dataloader yields no batch (batch_size {settings.get("batch_size")}, drop_last '
                             f'{settings.get("drop_last", False)}, {len(loader.dataset)} samples)')
    return out


def time_steps(runner: Runner, data: list[Any]) -> float:
    """Mean seconds per train step over ``data`` (each batch copied first: preprocessing may edit it)."""
    total = 0.0
    for batch in data:
        batch = copy.deepcopy(batch)
        start = time.perf_counter()
        runner.model.train_step(batch, runner.optim_wrapper)
        total += time.perf_counter() - start
    return total / len(data)


def seeded_loader(loader_cfg: dict) -> dict:
    """The loader config with its sampler at seed 0, so that two loaders built from it draw the same samples."""
    loader_cfg = copy.deepcopy(loader_cfg)
    if isinstance(loader_cfg.get('sampler'), dict):
        loader_cfg['sampler']['seed'] = 0
    return loader_cfg


class Endless:
    """A loader's batches epoch after epoch, each epoch in its own order, as training draws them: one epoch ran out
    before warm-up + rounds x steps iterations with a bare StopIteration. ``loader``: the wrapped DataLoader."""

    def __init__(self, loader):
        self.loader, self.epoch, self._batches = loader, 0, iter(loader)

    def __iter__(self) -> 'Endless':
        return self

    def __next__(self) -> Any:
        try:
            return next(self._batches)
        except StopIteration:
            pass
        self.epoch += 1
        if hasattr(self.loader.sampler, 'set_epoch'):
            self.loader.sampler.set_epoch(self.epoch)
        self._batches = iter(self.loader)
        try:
            return next(self._batches)
        except StopIteration:
            raise ValueError(f'train_dataloader yields no batch ({len(self.loader.dataset)} samples)') from None


def time_iterations(runner: Runner, loader: Iterator[Any], count: int) -> float:
    """Mean seconds per iteration over ``count`` iterations: the next batch from ``loader``, then a train step."""
    start = time.perf_counter()
    for _ in range(count):
        runner.model.train_step(next(loader), runner.optim_wrapper)
    return (time.perf_counter() - start) / count


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    names = ('baseline', 'variant')
    with tempfile.TemporaryDirectory() as work_dir:
        runners = {name: build(getattr(args, name), {**args.cfg_options, **getattr(args, f'{name}_options')},
                               os.path.join(work_dir, name), keep_workers=args.with_loading) for name in names}
        if args.with_loading:
            loaders = {name: Endless(runner.build_dataloader(seeded_loader(runner.cfg.train_dataloader), seed=0))
                       for name, runner in runners.items()}

            def timed(name: str, first: int, count: int) -> float:
                return time_iterations(runners[name], loaders[name], count)
        else:
            data = batches(runners['baseline'], args.warmup + args.rounds * args.steps)

            def timed(name: str, first: int, count: int) -> float:
                return time_steps(runners[name], data[first:first + count])
        for name in names:
            if args.warmup:
                timed(name, 0, args.warmup)
        times: dict[str, list[float]] = {name: [] for name in names}
        for r in range(args.rounds):
            for name in (names if r % 2 == 0 else names[::-1]):
                times[name].append(timed(name, args.warmup + r * args.steps, args.steps))
    ratios = [base / variant for base, variant in zip(times['baseline'], times['variant'])]
    result = {'baseline': args.baseline, 'variant': args.variant, 'baseline_options': args.baseline_options,
              'variant_options': args.variant_options, 'cfg_options': args.cfg_options,
              'threads': torch.get_num_threads(),
              'rounds': args.rounds, 'steps': args.steps, 'with_loading': args.with_loading,
              'baseline_s_per_step': statistics.median(times['baseline']),
              'variant_s_per_step': statistics.median(times['variant']),
              'speedup': statistics.median(ratios), 'speedup_min': min(ratios), 'speedup_max': max(ratios)}
    what = 'iteration (loading + step)' if args.with_loading else 'step'
    print(f"{args.baseline}: {result['baseline_s_per_step']:.4f} s per {what} (median of {args.rounds} rounds)")
    print(f"{args.variant}: {result['variant_s_per_step']:.4f} s per {what}")
    print(f"steps/s, variant / baseline: {result['speedup']:.2f}x (median of per-round ratios, range "
          f"{result['speedup_min']:.2f}-{result['speedup_max']:.2f}), torch threads {result['threads']}")
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='benchmark_cpu_training.py'))
