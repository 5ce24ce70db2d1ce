"""Is training limited by the data pipeline or by the model? Images/s of each, on this machine.

    python tools/benchmark_data.py [--samples 200] [--steps 3] [--batch 8] [--device cpu] [--pipeline-config CFG]

Two set-ups, each measured as (a) the data pipeline in one process (dataset[i], decoding included: what one
data loader worker delivers) and (b) training steps (forward + loss + backward + SGD step) on random tensors:
  digits    data/digits/train (run tools/data/fetch_data.py digits first), grey 8x8 -> 32x32;
            ImageClassifier(resnet18, small stem, 1 input channel, 10 classes) on 1x32x32
  imagenet  synthetic 500x375 JPEGs in a temp dir, RandomResizedCrop 224 + flip;
            ImageClassifier(resnet50, 1000 classes) on 3x224x224
Then it says which side is the bottleneck and how many loader workers would keep the model busy.

    python tools/benchmark_data.py --cached configs/unet/unet_r34_nuclei.py [CONFIG ...] [--samples 200]

instead times each config's training set, a CachedDataset, against the same pipeline without the cache (the
wrapped dataset running both pipelines in a row), in alternating rounds, and prints ms per sample and the ratio.
"""
from __future__ import annotations

import argparse
import copy
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from resbackbones.registry import DATASETS, MODELS

DIGITS_ROOT = Path('data/digits/train')
DIGITS_PIPELINE = [dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='Resize', size=32),
                   dict(type='Albu', transforms=[dict(type='Affine', translate_percent=0.1, rotate=(-10, 10), p=0.5)]),
                   dict(type='PackInputs')]
IMAGENET_PIPELINE = [dict(type='LoadImageFromFile'),
                     dict(type='Albu', transforms=[dict(type='RandomResizedCrop', size=(224, 224)),
                                                   dict(type='HorizontalFlip', p=0.5)]),
                     dict(type='PackInputs')]


def pipeline_throughput(dataset, samples: int, warmup: int = 5) -> float:
    """Images/s of ``dataset[i]`` (load + transforms + pack) in this process, cycling over the dataset."""
    for i in range(warmup):
        dataset[i % len(dataset)]
    start = time.perf_counter()
    for i in range(samples):
        dataset[i % len(dataset)]
    return samples / (time.perf_counter() - start)


def train_throughput(model: torch.nn.Module, shape: tuple[int, ...], num_classes: int, batch: int,
                     steps: int, warmup: int = 1, device: str = 'cpu') -> float:
    """Images/s of full SGD training steps of ``model`` (mode='loss') on random float inputs of ``shape``."""
    model.to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    inputs = torch.randn(batch, *shape, device=device)
    labels = torch.randint(num_classes, (batch,), device=device)
    sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)

    def step() -> None:
        optimizer.zero_grad()
        model(inputs, labels, mode='loss')['loss'].backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return batch * steps / (time.perf_counter() - start)


def write_synthetic_jpegs(root: Path, per_class: int = 8, classes: int = 2, size: tuple[int, int] = (500, 375)) -> None:
    """ImageFolder of smooth random JPEGs (ImageNet-like size and file weight) under ``root``."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f'class{c}').mkdir(parents=True)
        for i in range(per_class):
            coarse = rng.integers(0, 256, (size[1] // 25, size[0] // 25, 3), dtype=np.uint8)
            img = Image.fromarray(coarse).resize(size, Image.BICUBIC)
            noisy = np.clip(np.asarray(img, np.int16) + rng.integers(-20, 21, (size[1], size[0], 3)), 0, 255)
            Image.fromarray(noisy.astype(np.uint8)).save(root / f'class{c}' / f'{i}.jpg', quality=90)


def digits_dataset(config: str | None):
    """The digits training set: from ``config``'s train_dataloader when given, else the built-in pipeline."""
    if config:
        from mmengine.config import Config
        return DATASETS.build(Config.fromfile(config).train_dataloader.dataset)
    return DATASETS.build(dict(type='ImageFolderDataset', data_root=str(DIGITS_ROOT), pipeline=DIGITS_PIPELINE))


def plain_equivalent(cached: dict) -> dict:
    """The dataset config a CachedDataset config stands for: the wrapped dataset running both pipelines in a row."""
    plain = copy.deepcopy(cached['dataset'])
    plain['pipeline'] = list(plain.get('pipeline', [])) + list(cached.get('pipeline', []))
    return plain


def cached_against_plain(config: str, samples: int, rounds: int = 3) -> tuple[float, float]:
    """Median ms per sample of ``config``'s training set (a CachedDataset) and of its plain equivalent, timed in
    alternating rounds of ``samples`` each (the cache filled beforehand)."""
    from mmengine.config import Config
    dataset_cfg = Config.fromfile(config).train_dataloader.dataset
    if dataset_cfg.get('type') != 'CachedDataset':
        raise ValueError(f"{config}: train_dataloader.dataset.type is {dataset_cfg.get('type')!r}; --cached times "
                         'configs whose training set is a CachedDataset')
    datasets = [DATASETS.build(copy.deepcopy(dataset_cfg)), DATASETS.build(plain_equivalent(dataset_cfg))]
    for i in range(len(datasets[0])):
        datasets[0][i]
    times: list[list[float]] = [[], []]
    for r in range(rounds):
        for which in ((0, 1) if r % 2 == 0 else (1, 0)):
            times[which].append(1000 / pipeline_throughput(datasets[which], samples))
    return statistics.median(times[0]), statistics.median(times[1])


def classifier(depth: int, num_classes: int, **backbone) -> torch.nn.Module:
    """ImageClassifier over a ResNet of ``depth`` returning its last stage."""
    return MODELS.build(dict(type='ImageClassifier', num_classes=num_classes,
                             backbone=dict(type='ResNet', depth=depth, out_indices=(3,), norm_eval=False, **backbone)))


def verdict(name: str, pipe: float, train: float) -> str:
    """One line naming the slower side and the loader workers needed to feed the model."""
    if pipe >= train:
        return (f'{name}: the model is the bottleneck ({train:.1f} img/s); one loader process already delivers '
                f'{pipe / train:.1f}x that')
    return (f'{name}: the data pipeline is the bottleneck ({pipe:.1f} img/s per process vs {train:.1f} img/s of '
            f'training); use num_workers >= {math.ceil(train / pipe)}')


def main(argv: list[str] | None = None) -> int:
    """Measure both set-ups and print a table and the verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--samples', type=int, default=200, help='pipeline samples timed per set-up')
    parser.add_argument('--steps', type=int, default=3, help='timed training steps per model')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--device', default='cpu', help="where the training steps run: 'cpu' or 'cuda'")
    parser.add_argument('--pipeline-config', help='config whose train_dataloader.dataset replaces the digits one')
    parser.add_argument('--cached', nargs='+', metavar='CONFIG',
                        help='only time these configs\' CachedDataset training sets against them uncached')
    args = parser.parse_args(argv)
    if min(args.samples, args.steps, args.batch) < 1:  # else a ZeroDivisionError traceback after the work
        parser.error(f'--samples, --steps and --batch must be >= 1; got {args.samples}, {args.steps}, {args.batch}')
    if args.cached:
        for config in args.cached:
            try:
                cached, plain = cached_against_plain(config, args.samples)
            except (ValueError, FileNotFoundError) as err:
                parser.error(str(err))
            print(f'{config}: CachedDataset {cached:.2f} ms/sample, uncached {plain:.2f} ms/sample: '
                  f'{plain / cached:.1f}x fewer ms per sample')
        return 0
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        print('benchmark_data.py: error: --device cuda but torch sees no CUDA device', file=sys.stderr)
        return 1
    if not args.pipeline_config and not DIGITS_ROOT.is_dir():
        print(f'benchmark_data.py: error: {DIGITS_ROOT} is missing; run: python tools/data/fetch_data.py digits',
              file=sys.stderr)
        return 1
    torch.manual_seed(0)
    rows = []
    pipe = pipeline_throughput(digits_dataset(args.pipeline_config), args.samples)
    train = train_throughput(classifier(18, 10, in_channels=1, small_stem=True), (1, 32, 32), 10, args.batch,
                             args.steps, device=args.device)
    if args.pipeline_config:  # its pipeline against the digits model: no verdict compares the two
        rows.append((f'{Path(args.pipeline_config).stem} pipeline; step: digits resnet18', pipe, train, False))
    else:
        rows.append(('digits 1x32x32, resnet18 small stem', pipe, train, True))
    with tempfile.TemporaryDirectory() as tmp:
        write_synthetic_jpegs(Path(tmp))
        dataset = DATASETS.build(dict(type='ImageFolderDataset', data_root=tmp, pipeline=IMAGENET_PIPELINE))
        pipe = pipeline_throughput(dataset, args.samples)
    train = train_throughput(classifier(50, 1000), (3, 224, 224), 1000, args.batch, args.steps, device=args.device)
    rows.append(('imagenet-style 3x224x224 JPEG, resnet50', pipe, train, True))
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, '
          f'training on {args.device}; pipeline in 1 CPU process')
    print(f"{'set-up':42s} {'pipeline img/s (1 proc)':>24s} {'train-step img/s':>17s}")
    for name, pipe, train, _ in rows:
        print(f'{name:42s} {pipe:24.1f} {train:17.1f}')
    for name, pipe, train, same_setup in rows:
        if same_setup:
            print(verdict(name.split(',')[0], pipe, train))
        else:
            print(f'{name.split(";")[0]}: no verdict (--pipeline-config times another pipeline than the model)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
