"""Benchmark our 3D sliding-window inference against MONAI's ``sliding_window_inference``: same network, same window.

    python tools/benchmark_unet3d.py [--volume 160 192 160] [--patch 96] [--batch 2] [--base 16] [--repeats 3]

The network is our 3D U-Net (configs/_base_/models/unet3d_r18.py with a --base-channel encoder, 3 classes); both
functions blend its logits over --patch windows with overlap 0.25, Gaussian importance (sigma 0.125 of the
window) and --batch windows per forward, on one random (1, 1, D, H, W) volume. Reported:
  * voxels/s: the median of --repeats timed runs, runs alternating (ours, MONAI, ours ...);
  * peak memory above the inputs and the model during one inference, each function in a fresh process (CPU:
    the kernel's peak resident set, reset through /proc/self/clear_refs; CUDA: torch's peak allocation);
  * the largest difference between the two outputs (window placement differs slightly, so not 0).
Ratios ours / MONAI: speed > 1 means ours is faster, memory < 1 means ours needs less. One line of json last.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from resbackbones.apis import sliding_window_inference  # noqa: E402
from resbackbones.registry import MODELS  # noqa: E402

OVERLAP, SIGMA = 0.25, 0.125


def build(base: int, device: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = MODELS.build(dict(type='UNet', num_classes=3, input_skip=True,
                              backbone=dict(type='VolumeResNet', depth=18, base_channels=base),
                              decoder=dict(decoder_channels=(64, 32, 32, 16, 16))))
    return model.to(device).eval()


def runner(name: str, model: torch.nn.Module, patch: tuple[int, ...], batch: int):
    """A function of the volume giving the blended logits, through ours or MONAI's sliding window."""
    if name == 'ours':
        return lambda x: sliding_window_inference(x, model.logits, patch, OVERLAP, 'gaussian', SIGMA, batch)
    try:
        from monai.inferers import sliding_window_inference as monai_sliding_window
    except ImportError as err:
        raise SystemExit(f"benchmark_unet3d.py needs MONAI (pip install 'resbackbones[dev]'): {err}") from err
    return lambda x: monai_sliding_window(x, patch, batch, model.logits, overlap=OVERLAP, mode='gaussian',
                                          sigma_scale=SIGMA)


def _rss_kib(field: str) -> int:
    with open('/proc/self/status') as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def peak_memory(name: str, args: argparse.Namespace) -> float:
    """MiB used above the model and input during one inference (run in a fresh process: see measure_memory)."""
    model = build(args.base, args.device)
    x = torch.randn(1, 1, *args.volume, device=args.device)
    run = runner(name, model, tuple(args.patch), args.batch)
    with torch.no_grad():
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
            before = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            run(x)
            torch.cuda.synchronize()
            return (torch.cuda.max_memory_allocated() - before) / 2 ** 20
        with open('/proc/self/clear_refs', 'w') as refs:
            refs.write('5')  # reset the peak resident set (VmHWM) to the current one
        before = _rss_kib('VmRSS:')
        run(x)
        return (_rss_kib('VmHWM:') - before) / 1024


def measure_memory(name: str, argv: list[str]) -> float:
    """``peak_memory`` of ``name`` in a fresh interpreter, so that neither function inherits the other's heap."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), *argv, '--memory-of', name], check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--volume', type=int, nargs=3, default=(160, 192, 160), metavar=('D', 'H', 'W'))
    parser.add_argument('--patch', type=int, nargs='+', default=[96], help='window side, or D H W')
    parser.add_argument('--batch', type=int, default=2, help='windows per forward')
    parser.add_argument('--base', type=int, default=16, help='encoder base channels')
    parser.add_argument('--repeats', type=int, default=3, help='timed runs per function')
    parser.add_argument('--threads', type=int, default=None, help='torch threads (default: torch decides)')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    parser.add_argument('--memory-of', choices=('ours', 'monai'), help=argparse.SUPPRESS)  # internal: one child
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.patch = args.patch * 3 if len(args.patch) == 1 else args.patch
    if len(args.patch) != 3 or min(*args.patch, *args.volume, args.batch, args.repeats, args.base) < 1:
        parser.error('--patch takes 1 or 3 sides; sizes, --batch, --base and --repeats must be >= 1')
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1; got {args.threads}')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: torch.cuda.is_available() is False on this machine')
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_of:
        print(peak_memory(args.memory_of, args))
        return {}
    model = build(args.base, args.device)
    x = torch.randn(1, 1, *args.volume, device=args.device)
    runs = {name: runner(name, model, tuple(args.patch), args.batch) for name in ('ours', 'monai')}
    times: dict[str, list[float]] = {name: [] for name in runs}
    outputs = {}
    with torch.no_grad():
        for name, run in runs.items():  # warm-up, and the outputs to compare
            outputs[name] = run(x)
        for _ in range(args.repeats):
            for name, run in runs.items():
                if args.device.startswith('cuda'):
                    torch.cuda.synchronize()
                start = time.perf_counter()
                run(x)
                if args.device.startswith('cuda'):
                    torch.cuda.synchronize()
                times[name].append(time.perf_counter() - start)
    voxels = x[0, 0].numel()
    speed = {name: voxels / statistics.median(t) for name, t in times.items()}
    memory = {name: measure_memory(name, argv) for name in runs}
    result = {'device': args.device, 'threads': torch.get_num_threads(), 'volume': list(args.volume),
              'patch': list(args.patch), 'batch': args.batch, 'base': args.base, 'repeats': args.repeats,
              'voxels_per_s': {n: round(v) for n, v in speed.items()},
              'peak_mib': {n: round(m, 1) for n, m in memory.items()},
              'max_abs_diff': float((outputs['ours'] - outputs['monai']).abs().max()),
              'ratio_speed': round(speed['ours'] / speed['monai'], 3),
              'ratio_memory': round(memory['ours'] / max(memory['monai'], 1e-9), 3)}
    print(f"{'':8}{'voxels/s':>14}{'peak MiB':>12}")
    for name in runs:
        print(f"{name:8}{result['voxels_per_s'][name]:>14,}{result['peak_mib'][name]:>12}")
    print(f"ratio ours/MONAI: speed {result['ratio_speed']} (> 1 = ours faster), memory {result['ratio_memory']} "
          f"(< 1 = ours smaller); max |difference| of the logits {result['max_abs_diff']:.3g}")
    print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
