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


def share_weights(ours: nn.Module, reference: nn.Module) -> None:
    """Load smp's weights into ours: its encoder's by name (torchvision's ResNet keys), the decoder's and head's in
    module order, which the two share layer for layer; ValueError when a shape differs."""
    theirs, own = reference.state_dict(), ours.state_dict()
    rest_own = [k for k in own if not k.startswith('backbone.')]
    rest_theirs = [k for k in theirs if not k.startswith('encoder.')]
    if len(rest_own) != len(rest_theirs):
        raise ValueError(f'decoder tensors: ours {len(rest_own)}, smp {len(rest_theirs)}')
    state = {k: theirs['encoder.' + k[len('backbone.'):]] for k in own if k.startswith('backbone.')}
    state.update(zip(rest_own, (theirs[k] for k in rest_theirs)))
    misfits = [k for k in own if state[k].shape != own[k].shape]
    if misfits:
        raise ValueError(f'shapes differ from smp at {misfits[:3]}')
    ours.load_state_dict(state, strict=True)


def output_gap(models: dict[str, nn.Module], size: int) -> float:
    """max |ours - smp| / max |smp| of the logits, both in eval mode with the same weights, on one random image:
    the two must compute the same thing for their times to compare."""
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        ours, theirs = models['ours'].eval().logits(x), models['smp'].eval()(x)
    return ((ours - theirs).abs().max() / theirs.abs().max().clamp_min(1e-12)).item()


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
    for r in range(repeats):  # the first of a pair runs on a warmer (or colder) machine: alternate who goes first
        for name in (list(steps) if r % 2 == 0 else list(steps)[::-1]):
            times[name].append(time_it(steps[name]))
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
    if args.batch == 1 and args.size < 64:  # the 1x1 deepest map of one image: BatchNorm cannot train on it
        parser.error(f'--size {args.size} with --batch 1 leaves one value per channel at the deepest level, where '
                     'BatchNorm cannot train; use --size >= 64 or --batch >= 2')
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = build_models()
    share_weights(models['ours'], models['smp'])  # random weights of smp's init, in both
    gap = output_gap(models, args.size)
    if gap > 1e-4:
        raise SystemExit(f'benchmark_unet.py: ours and smp give logits {gap:.2e} apart (relative) with the same '
                         'weights, so their timings would not compare the same computation')
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
        'batch': args.batch, 'repeats': args.repeats, 'params': params, 'output_gap': gap,
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
