"""Benchmark roi_align_rows against torchvision's roi_align in the same run (CPU), forward and forward+backward.

    python tools/benchmark_roi_align.py [--case nuclei-box ...] [--layout nchw channels_last] [--rounds 7] [--threads N]

Cases (feature map, RoIs, output), both on two images:
  nuclei-box / nuclei-mask: configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei.py training shapes: 64 channels on the
      stride-4 map of a 192x192 crop, 256 sampled RoIs at 7x7 / 64 positive RoIs at 14x14;
  coco-box / coco-mask: a COCO-sized FPN P2 (256 channels, 800x1216 image), 1024 RoIs at 7x7 / 256 at 14x14.
Sampling ratio 2 (torchvision's Mask R-CNN), boxes of 8-72 px spread over the image; the feature map in NCHW
(fp32 training) or channels_last memory (the bf16 switch). Each round times both
kernels back to back, alternating which goes first; the ratio is torchvision's time over ours, the median of the
per-round ratios (> 1: ours is faster). Prints one line per case and direction, then one line of json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Callable

import torch
from torchvision.ops import roi_align

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from resbackbones.models.detectors.roi_align_rows import roi_align_rows  # noqa: E402

# name: (channels, image side (h, w), RoIs per image, output size)
CASES = {'nuclei-box': (64, (192, 192), 128, 7), 'nuclei-mask': (64, (192, 192), 32, 14),
         'coco-box': (256, (800, 1216), 512, 7), 'coco-mask': (256, (800, 1216), 128, 14)}
KERNELS = {'torchvision': roi_align, 'rows': roi_align_rows}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--case', nargs='+', default=list(CASES), choices=list(CASES))
    parser.add_argument('--layout', nargs='+', default=['nchw', 'channels_last'], choices=['nchw', 'channels_last'])
    parser.add_argument('--rounds', type=int, default=7, help='timed rounds per case (median reported)')
    parser.add_argument('--threads', type=int, default=None, help="torch CPU threads (default: torch's own)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f'--rounds must be >= 1; got {args.rounds}')
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1; got {args.threads}')
    return args


def inputs(case: str, layout: str, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(features (2, C, H/4, W/4) in ``layout``, rois (R, 5) in image pixels, output size) for a case."""
    channels, (height, width), per_image, output = CASES[case]
    features = torch.randn(2, channels, height // 4, width // 4, generator=generator)
    sizes = 8 + torch.rand(2 * per_image, 2, generator=generator) * 64
    corners = torch.rand(2 * per_image, 2, generator=generator) * (torch.tensor([width, height]) - sizes)
    image = torch.arange(2).repeat_interleave(per_image)[:, None].float()
    rois = torch.cat([image, corners, corners + sizes], 1)
    memory = torch.channels_last if layout == 'channels_last' else torch.contiguous_format
    return features.contiguous(memory_format=memory), rois, output


def step(kernel: Callable, features: torch.Tensor, rois: torch.Tensor, output: int, backward: bool) -> float:
    """Seconds for one pooling (and its backward with a fixed upstream gradient)."""
    leaf = features.detach().requires_grad_(backward)
    start = time.perf_counter()
    pooled = kernel(leaf, rois, output, 0.25, 2, False)
    if backward:
        pooled.backward(torch.ones_like(pooled))
    return time.perf_counter() - start


def results_of(kernel: Callable, features: torch.Tensor, rois: torch.Tensor, output: int) -> tuple[torch.Tensor, ...]:
    """The pooled features and the gradient of the feature map under an upstream gradient of ones."""
    leaf = features.detach().requires_grad_(True)
    pooled = kernel(leaf, rois, output, 0.25, 2, False)
    pooled.backward(torch.ones_like(pooled))
    return pooled.detach(), leaf.grad


def check_agreement(features: torch.Tensor, rois: torch.Tensor, output: int, case: str) -> float:
    """The largest relative gap between the kernels' outputs and gradients; SystemExit above 1e-4 (a faster
    kernel that pools something else must not be timed as the same one)."""
    ours, theirs = results_of(KERNELS['rows'], features, rois, output), \
        results_of(KERNELS['torchvision'], features, rois, output)
    gap = max(((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item() for a, b in zip(ours, theirs))
    if gap > 1e-4:
        raise SystemExit(f'benchmark_roi_align.py: {case}: roi_align_rows and torchvision differ by {gap:.2e} '
                         '(relative), so their timings would not compare the same computation')
    return gap


def measure(case: str, layout: str, backward: bool, rounds: int) -> dict[str, float]:
    features, rois, output = inputs(case, layout, torch.Generator().manual_seed(0))
    gap = check_agreement(features, rois, output, f'{case}:{layout}')
    for kernel in KERNELS.values():  # warm-up
        step(kernel, features, rois, output, backward)
    times: dict[str, list[float]] = {name: [] for name in KERNELS}
    for r in range(rounds):
        for name in (list(KERNELS) if r % 2 == 0 else list(KERNELS)[::-1]):
            times[name].append(step(KERNELS[name], features, rois, output, backward))
    ratios = [tv / ours for tv, ours in zip(times['torchvision'], times['rows'])]
    return dict(torchvision_ms=1e3 * statistics.median(times['torchvision']),
                rows_ms=1e3 * statistics.median(times['rows']), ratio=statistics.median(ratios),
                ratio_min=min(ratios), ratio_max=max(ratios), max_rel_gap=gap)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, threads={torch.get_num_threads()}, {args.rounds} rounds')
    results = {}
    for case in args.case:
        for layout in args.layout:
            for backward in (False, True):
                key = f'{case}:{layout}:{"forward+backward" if backward else "forward"}'
                results[key] = r = measure(case, layout, backward, args.rounds)
                print(f'{key:44s} torchvision {r["torchvision_ms"]:8.2f} ms  rows {r["rows_ms"]:8.2f} ms  '
                      f'speed-up {r["ratio"]:.2f}x ({r["ratio_min"]:.2f}-{r["ratio_max"]:.2f})')
    print(json.dumps(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
