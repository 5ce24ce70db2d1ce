"""Forward throughput of our ResNet-50 backbone against torchvision's ResNet-50, measured the same way.

    python tools/benchmark.py                                   # CPU, batch 8, 224x224, fp32 eager
    python tools/benchmark.py --device cuda --channels-last --amp

Compared (all in eval mode under torch.no_grad, same batch and input):
  ours      create_model('resnet50', out_indices=(0, 1, 2, 3)): returns the four stage outputs
  tv_trunk  torchvision resnet50 conv1 .. layer4: the same work, without avgpool/fc
  tv_full   the whole torchvision resnet50 (adds avgpool and the 1000-class fc)
Ours is loaded with the torchvision weights and its layer4 output is checked against the trunk's, so both run the
same numbers. After warm-up, each round times every model once (``--iters`` forwards), starting each round at the
next model so that none always runs first. Prints the median images/s per model and the ratio ours / tv_trunk
(target >= 0.95) as the median of per-round ratios: models timed seconds apart in one round share the machine's
load at that moment, so the paired ratio resists other jobs on a shared machine better than a ratio of medians.
On CPU it also prints the process's CPU seconds per forward, which other jobs barely change (use --threads 1).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time

import torch
import torchvision
from torch import nn

from resbackbones import create_model


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=8, help='images per forward (default 8)')
    parser.add_argument('--size', type=int, default=224, help='input height and width (default 224)')
    parser.add_argument('--rounds', type=int, default=11, help='interleaved timing rounds (default 11)')
    parser.add_argument('--iters', type=int, default=2, help='forwards per model per round (default 2)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed forwards per model first (default 2)')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--channels-last', action='store_true', help='NHWC memory format for models and input')
    parser.add_argument('--amp', action='store_true', help='autocast: bfloat16 on CPU, float16 on CUDA')
    parser.add_argument('--profile', action='store_true',
                        help='also print the top operators of one forward of ours and of tv_trunk (torch.profiler)')
    parser.add_argument('--threads', type=int, default=None,
                        help="CPU threads for torch (default: torch's own); 1 suffers least from other jobs")
    args = parser.parse_args(argv)
    for name in ('batch', 'size', 'rounds', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be >= 1; got {getattr(args, name)}')
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1; got {args.threads}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0; got {args.warmup}')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: torch.cuda.is_available() is False on this machine')
    return args


def build_models() -> dict[str, nn.Module]:
    """The three models, ours holding torchvision's weights."""
    tv = torchvision.models.resnet50().eval()
    trunk = nn.Sequential(tv.conv1, tv.bn1, tv.relu, tv.maxpool, tv.layer1, tv.layer2, tv.layer3, tv.layer4)
    ours = create_model('resnet50', out_indices=(0, 1, 2, 3)).eval()
    ours.load_state_dict({k: v for k, v in tv.state_dict().items() if not k.startswith('fc.')}, strict=True)
    return {'ours': ours, 'tv_trunk': trunk, 'tv_full': tv}


def autocast_for(args: argparse.Namespace):
    """The autocast context the timing runs under (bf16 on CPU, fp16 on CUDA with --amp), else a null one."""
    return torch.autocast(args.device, dtype=torch.float16 if args.device == 'cuda' else torch.bfloat16) \
        if args.amp else contextlib.nullcontext()


def output_gap(models: dict[str, nn.Module], x: torch.Tensor, args: argparse.Namespace) -> float:
    """max |ours - tv_trunk| / max |tv_trunk| on layer4 for one image of the timed input, in the timed dtype and
    layout: a faster model that computes something else must not be timed as the same one."""
    with torch.no_grad(), autocast_for(args):
        ours, reference = models['ours'](x[:1])[-1].float(), models['tv_trunk'](x[:1]).float()
    return ((ours - reference).abs().max() / reference.abs().max().clamp_min(1e-12)).item()


def sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def measure(models: dict[str, nn.Module], x: torch.Tensor,
            args: argparse.Namespace) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per model and round: images/s (wall clock) and this process's CPU seconds per forward. Rounds interleave."""
    amp = autocast_for(args)
    names = list(models)
    rates, cpu = {name: [] for name in names}, {name: [] for name in names}
    with torch.no_grad(), amp:
        for model in models.values():
            for _ in range(args.warmup):
                model(x)
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                sync(args.device)
                start, start_cpu = time.perf_counter(), time.process_time()
                for _ in range(args.iters):
                    models[name](x)
                sync(args.device)
                rates[name].append(args.batch * args.iters / (time.perf_counter() - start))
                cpu[name].append((time.process_time() - start_cpu) / args.iters)
    return rates, cpu


def report(rates: dict[str, list[float]], cpu: dict[str, list[float]], on_cpu: bool) -> None:
    """Median img/s per model, then ours relative to each torchvision model (> 1: ours is faster)."""
    for name, values in rates.items():
        cpu_time = f', CPU {statistics.median(cpu[name]):.3f} s/forward' if on_cpu else ''
        print(f'{name:9s} median {statistics.median(values):8.2f} img/s  '
              f'(min {min(values):.2f}, max {max(values):.2f}{cpu_time})')
    for ref in ('tv_trunk', 'tv_full'):
        paired = [a / b for a, b in zip(rates['ours'], rates[ref])]
        print(f'ratio ours/{ref}: {statistics.median(paired):.3f} (median of per-round ratios, range '
              f'{min(paired):.3f}-{max(paired):.3f}; ratio of medians '
              f'{statistics.median(rates["ours"]) / statistics.median(rates[ref]):.3f})'
              + ('; target >= 0.95' if ref == 'tv_trunk' else ''))
    if on_cpu:  # CPU time barely depends on other jobs; with --threads 1 it is the cleanest figure on a busy machine
        paired = [b / a for a, b in zip(cpu['ours'], cpu['tv_trunk'])]
        print(f'CPU-time ratio tv_trunk/ours: {statistics.median(paired):.3f} (median of per-round ratios)')


def profile_ops(models: dict[str, nn.Module], x: torch.Tensor, args: argparse.Namespace,
                names: tuple[str, ...] = ('ours', 'tv_trunk'), rows: int = 8) -> None:
    """Operator table (self time, calls) of one forward per model, under the timed autocast: where the two models
    differ, if they do."""
    from torch.profiler import profile
    with torch.no_grad(), autocast_for(args):
        for name in names:
            with profile() as prof:
                models[name](x)
            print(f'--- {name}: one forward, top {rows} operators by self time')
            print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=rows))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    models = build_models()
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    for model in models.values():
        model.to(args.device, memory_format=memory_format)
    x = torch.randn(args.batch, 3, args.size, args.size, device=args.device).to(memory_format=memory_format)
    device_name = torch.cuda.get_device_name() if args.device == 'cuda' else f'CPU, nproc={os.cpu_count()}'
    print(f'torch {torch.__version__}, torchvision {torchvision.__version__}, {device_name}, '
          f'torch threads={torch.get_num_threads()}')
    print(f'batch {args.batch}, {args.size}x{args.size}, {"amp" if args.amp else "fp32"}, '
          f'{"channels_last" if args.channels_last else "contiguous"}, eager, eval, no_grad; '
          f'{args.rounds} rounds x {args.iters} forwards, {args.warmup} warm-up')
    gap, limit = output_gap(models, x, args), 5e-2 if args.amp else 1e-4
    print(f'max |ours - tv_trunk| / max |tv_trunk| on layer4 (same weights, as timed): {gap:.2e}')
    if gap > limit:
        raise SystemExit(f'benchmark.py: ours and tv_trunk differ by {gap:.2e} (relative; limit {limit:g}), so '
                         'their timings would not compare the same computation')
    report(*measure(models, x, args), on_cpu=args.device == 'cpu')
    if args.profile:
        profile_ops(models, x, args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
