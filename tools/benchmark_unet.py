"""Benchmark U-Net ResNet-34 against segmentation_models_pytorch's Unet('resnet34') in the same run.

    python tools/benchmark_unet.py [--size 256] [--image 512] [--batch 4] [--repeats 5] [--threads N]

Measures, for both models on the same inputs:
  * sliding-window inference throughput (pixels/s): an --image x --image input in --size patches, overlap 0.25,
    Gaussian blending, 4 patches per forward (the same sliding_window_inference function drives both models);
  * training-step throughput (images/s): forward, cross-entropy, backward and an SGD step on a batch of
    --batch images of --size x --size.
Runs alternate between the two models (A, B, A, B ...) so load changes on a shared machine hit both, and the
median of --repeats timed runs is reported. Prints a table, the ratios ours/smp (> 1: ours is faster), and one
line of json.
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
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from resbackbones.apis import sliding_window_inference  # noqa: E402
from resbackbones.registry import MODELS  # noqa: E402

NUM_CLASSES = 2


def build_models() -> dict[str, nn.Module]:
    """Ours (configs/_base_/models/unet_r34.py settings, RGB, 2 classes) and smp's Unet('resnet34')."""
    try:
        import segmentation_models_pytorch as smp
    except ImportError as err:
        raise SystemExit(f'benchmark_unet.py needs segmentation-models-pytorch (pip install '
                         f"'resbackbones[dev]'): {err}") from err
    ours = MODELS.build(dict(type='UNet', num_classes=NUM_CLASSES, loss=dict(type='CrossEntropyLoss'),
                             backbone=dict(type='ResNet', depth=34, in_channels=3, out_indices=('stem', 0, 1, 2, 3),
                                           norm_eval=False),
                             decoder=dict(decoder_channels=(256, 128, 64, 32, 16))))
    reference = smp.Unet('resnet34', encoder_weights=None, in_channels=3, classes=NUM_CLASSES)
    return {'ours': ours, 'smp': reference}


def forward_of(name: str, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    return model.logits if name == 'ours' else model


def time_it(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def median_times(steps: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Median seconds per call of each step, calls interleaved; one untimed warm-up call each."""
    for step in steps.values():
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            times[name].append(time_it(step))
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--size', type=int, default=256, help='patch / training image side')
    parser.add_argument('--image', type=int, default=512, help='side of the sliding-window inference image')
    parser.add_argument('--batch', type=int, default=4, help='training batch size')
    parser.add_argument('--repeats', type=int, default=5, help='timed runs per model and measurement')
    parser.add_argument('--threads', type=int, default=None, help='torch threads (default: torch decides)')
    args = parser.parse_args(argv)
    if min(args.size, args.image, args.batch, args.repeats) < 1:
        parser.error('--size, --image, --batch and --repeats must be >= 1')
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1; got {args.threads}')
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = build_models()
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}

    image = torch.randn(1, 3, args.image, args.image)
    for model in models.values():
        model.eval()

    def infer(name: str) -> Callable[[], None]:
        return lambda: sliding_window_inference(image, forward_of(name, models[name]), args.size, overlap=0.25,
                                                blend='gaussian', batch_size=4)
    with torch.no_grad():
        infer_s = median_times({name: infer(name) for name in models}, args.repeats)

    x = torch.randn(args.batch, 3, args.size, args.size)
    target = torch.randint(0, NUM_CLASSES, (args.batch, args.size, args.size))
    optimizers = {name: torch.optim.SGD(m.parameters(), lr=1e-3, momentum=0.9) for name, m in models.items()}

    def train(name: str) -> Callable[[], None]:
        model, optimizer = models[name], optimizers[name]

        def step() -> None:
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(forward_of(name, model)(x), target).backward()
            optimizer.step()
        return step
    for model in models.values():
        model.train()
    train_s = median_times({name: train(name) for name in models}, args.repeats)

    pixels = args.image * args.image
    result = {
        'device': 'cpu', 'threads': torch.get_num_threads(), 'size': args.size, 'image': args.image,
        'batch': args.batch, 'repeats': args.repeats, 'params': params,
        'infer_pixels_per_s': {n: round(pixels / t) for n, t in infer_s.items()},
        'train_images_per_s': {n: round(args.batch / t, 3) for n, t in train_s.items()},
    }
    result['ratio_infer'] = round(infer_s['smp'] / infer_s['ours'], 3)
    result['ratio_train'] = round(train_s['smp'] / train_s['ours'], 3)
    print(f"{'':8}{'params':>12}{'slide infer px/s':>20}{'train img/s':>14}")
    for name in models:
        print(f"{name:8}{params[name]:>12,}{result['infer_pixels_per_s'][name]:>20,}"
              f"{result['train_images_per_s'][name]:>14}")
    print(f"ratio ours/smp (throughput, > 1 = ours faster): inference {result['ratio_infer']}, "
          f"training {result['ratio_train']}")
    print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
