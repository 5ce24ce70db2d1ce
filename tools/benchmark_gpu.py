"""GPU throughput in one prepared run (<= 8 minutes on one GPU); ``--tiny`` runs the same code on CPU in seconds.

    python tools/benchmark_gpu.py                 # CUDA: full sizes
    python tools/benchmark_gpu.py --tiny          # CPU smoke test (the test suite runs this)

Prints, each as one line and all together as json at the end:
  * ResNet-50 (ours, ImageClassifier, 1000 classes) and torchvision's resnet50 with the same weights, in the same
    run, steps interleaved, AMP (fp16) + channels_last for both: training img/s (forward, cross-entropy, backward,
    SGD step; batch 128 at 224), inference img/s (batch 256) and the ratios ours / torchvision. Published anchors
    on other machines, for orientation only: timm 1,218 img/s training on an RTX 3090, NVIDIA's 2,470 on an A100.
  * Faster R-CNN R50-FPN training it/s (steps interleaved) and peak memory (one model at a time), ours against
    torchvision's in the same run (tools/benchmark_det.py's models and iteration; 2 images of 800x1333; mmdet:
    4.0 GB at 2 images).
  * I3D R50 (configs/_base_/models/i3d_r50.py, random init) inference clips/s (8 clips of 32x224x224, AMP); no
    upstream I3D is installable to compare with in the same run (mmaction2 refuses mmcv 2.2).
Not yet run on a GPU (no device was available when it was written): the figures in docs/deploy.md are to come.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from typing import Callable

import torch
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from mmengine.config import Config  # noqa: E402

from resbackbones.registry import MODELS  # noqa: E402

FULL = dict(train_batch=128, infer_batch=256, size=224, det_hw=(800, 1333), clips=8, frames=32, steps=20, warmup=3)
TINY = dict(train_batch=2, infer_batch=2, size=32, det_hw=(64, 96), clips=1, frames=8, steps=2, warmup=1)  # I3D's pool2 needs T >= 8


def timed_rate(step: Callable[[], None], units: int, steps: int, device: str, warmup: int = 3) -> float:
    """Units per second over ``steps`` calls after ``warmup`` calls (medians of single calls)."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        if device == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return units / statistics.median(times)


def paired_rates(steps: dict[str, Callable[[], None]], units: int, count: int, device: str,
                 warmup: int = 3) -> dict[str, float]:
    """Units per second of each step (median of single calls), the steps interleaved and alternating who goes
    first, so that a clock or load change hits both."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(count):
        for name in (list(steps) if r % 2 == 0 else list(steps)[::-1]):
            times[name].append(1 / timed_rate(steps[name], 1, 1, device, warmup=0))
    return {name: units / statistics.median(values) for name, values in times.items()}


def resnet50(sizes: dict, device: str) -> dict:
    import torchvision
    ours = MODELS.build(dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=50), num_classes=1000))
    reference = torchvision.models.resnet50()
    state = {f'backbone.{k}' if not k.startswith('fc.') else f'head.{k}': v for k, v in reference.state_dict().items()}
    ours.load_state_dict(state, strict=True)  # the same weights: the same computation, timed twice
    models = {'ours': ours.to(device, memory_format=torch.channels_last),
              'torchvision': reference.to(device, memory_format=torch.channels_last)}
    forward = {'ours': models['ours'].tensor, 'torchvision': models['torchvision']}
    dtype = torch.float16 if device == 'cuda' else torch.bfloat16
    x = torch.randn(sizes['train_batch'], 3, sizes['size'], sizes['size'], device=device)
    x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (sizes['train_batch'],), device=device)
    with torch.no_grad():
        for model in models.values():
            model.eval()
        gap = (forward['ours'](x[:1]) - forward['torchvision'](x[:1])).abs().max().item()
    if gap > 1e-3:
        raise SystemExit(f'benchmark_gpu.py: ours and torchvision resnet50 differ by {gap:.2e} with the same weights')

    def train_step(name: str) -> Callable[[], None]:
        opt = torch.optim.SGD(models[name].parameters(), lr=0.01, momentum=0.9)
        scaler = torch.amp.GradScaler(device, enabled=device == 'cuda')

        def step() -> None:
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device, dtype=dtype):
                loss = F.cross_entropy(forward[name](x), y)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        return step
    for model in models.values():
        model.train()
    train = paired_rates({name: train_step(name) for name in models}, sizes['train_batch'], sizes['steps'], device,
                         sizes['warmup'])
    xi = torch.randn(sizes['infer_batch'], 3, sizes['size'], sizes['size'], device=device)
    xi = xi.contiguous(memory_format=torch.channels_last)
    for model in models.values():
        model.eval()

    def infer_step(name: str) -> Callable[[], None]:
        def step() -> None:
            with torch.no_grad(), torch.autocast(device, dtype=dtype):
                forward[name](xi)
        return step
    infer = paired_rates({name: infer_step(name) for name in models}, sizes['infer_batch'], sizes['steps'], device,
                         sizes['warmup'])
    return {'resnet50_train_img_s': train['ours'], 'resnet50_torchvision_train_img_s': train['torchvision'],
            'resnet50_train_ratio': train['ours'] / train['torchvision'],
            'resnet50_infer_img_s': infer['ours'], 'resnet50_torchvision_infer_img_s': infer['torchvision'],
            'resnet50_infer_ratio': infer['ours'] / infer['torchvision'], 'resnet50_output_gap': gap}


def faster_rcnn(sizes: dict, device: str) -> dict:
    spec = importlib.util.spec_from_file_location('benchmark_det', os.path.join(REPO, 'tools', 'benchmark_det.py'))
    det = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(det)
    h, w = sizes['det_hw']
    args = argparse.Namespace(images=2, height=h, width=w)
    out, steps = {}, {}
    for which in ('ours', 'torchvision'):  # each peak alone: one step of one model after a reset
        if device == 'cuda':
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        steps[which] = det.step_fn(which, det.build(which, device, h, w), device, args)
        steps[which]()
        if device == 'cuda':
            torch.cuda.synchronize()
            out[f'faster_rcnn_{which}_peak_gb'] = torch.cuda.max_memory_allocated() / 2**30
    rates = paired_rates(steps, 1, max(2, sizes['steps'] // 2), device, sizes['warmup'])
    out.update({f'faster_rcnn_{which}_train_it_s': rate for which, rate in rates.items()})
    out['faster_rcnn_speed_ratio'] = out['faster_rcnn_ours_train_it_s'] / out['faster_rcnn_torchvision_train_it_s']
    return out


def i3d(sizes: dict, device: str) -> dict:
    cfg = Config.fromfile(os.path.join(REPO, 'configs/_base_/models/i3d_r50.py')).model
    cfg.backbone.init_cfg = None
    model = MODELS.build(cfg).to(device).eval()
    x = torch.randn(sizes['clips'], 3, sizes['frames'], sizes['size'], sizes['size'], device=device)
    dtype = torch.float16 if device == 'cuda' else torch.bfloat16

    def infer() -> None:
        with torch.no_grad(), torch.autocast(device, dtype=dtype):
            model.tensor(x)
    return {'i3d_r50_infer_clips_s': timed_rate(infer, sizes['clips'], sizes['steps'], device, sizes['warmup'])}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--tiny', action='store_true', help='tiny sizes on CPU (a smoke test, not a measurement)')
    args = parser.parse_args(argv)
    device = 'cpu' if args.tiny else 'cuda'
    if device == 'cuda' and not torch.cuda.is_available():
        parser.error('no CUDA device: run on a GPU machine, or --tiny for the CPU smoke test')
    sizes = TINY if args.tiny else FULL
    name = torch.cuda.get_device_name() if device == 'cuda' else 'CPU (tiny sizes: not a measurement)'
    print(f'{name}, torch {torch.__version__}')
    result = {}
    for part in (resnet50, faster_rcnn, i3d):
        start = time.time()
        got = part(sizes, device)
        for key, value in got.items():
            print(f'  {key}: {value:.3f}')
        print(f'  ({part.__name__}: {time.time() - start:.0f} s)')
        result.update(got)
    print(json.dumps({'device': name, **result}))
    return result


if __name__ == '__main__':
    main()
