"""Training speed and peak memory of our Faster R-CNN R50-FPN against torchvision's fasterrcnn_resnet50_fpn.

    python tools/benchmark_det.py                          # CPU: 2 images of 800x1333, training iterations
    python tools/benchmark_det.py --device cuda            # GPU: also inference images/s and peak GPU memory

Both models are the same network with the same weights: torchvision's is built as fasterrcnn_resnet50_fpn builds it
for training from a pretrained backbone (FrozenBatchNorm2d, 3 trainable stages), ours from
configs/_base_/models/faster-rcnn_r50_fpn.py (FrozenBN, frozen_stages=1) with 90 classes, loaded with
torchvision's weights through our converter. A training iteration is forward + backward + SGD step on the same
uint8 images and boxes (ours through its data preprocessor, torchvision's through its GeneralizedRCNNTransform,
whose resize is a no-op at 800x1333). Timing: both models in this process, one iteration each in turn, the order
flipping every round, so a shared machine's changing load hits both alike; figures are medians over --rounds.
Peak memory: each model alone in a subprocess for one iteration (max RSS on CPU, torch.cuda.max_memory_allocated on
GPU). Prints iterations/s, peak memory and the ratio ours / torchvision (target >= 0.95 for speed).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(which: str, device: str, height: int, width: int) -> torch.nn.Module:
    """torchvision's model (seeded; its transform set to keep height x width as is) or ours with the same weights."""
    from torchvision.models import resnet50
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
    from torchvision.ops.misc import FrozenBatchNorm2d
    torch.manual_seed(0)
    tv = FasterRCNN(_resnet_fpn_extractor(resnet50(norm_layer=FrozenBatchNorm2d), 3), num_classes=91)
    tv.transform.min_size, tv.transform.max_size = (min(height, width),), max(height, width)  # 800x1333: defaults
    if which == 'torchvision':
        return tv.to(device)
    from mmengine.config import Config

    from resbackbones.registry import MODELS
    from resbackbones.weights.torchvision_detection import load_torchvision_detection
    cfg = Config.fromfile(os.path.join(REPO, 'configs/_base_/models/faster-rcnn_r50_fpn.py')).model
    cfg.backbone.init_cfg = None
    cfg.roi_head.num_classes = 90
    ours = MODELS.build(cfg)
    load_torchvision_detection(ours, tv.state_dict())
    return ours.to(device)


def batch(device: str, images: int, height: int, width: int):
    """The same uint8 images and two boxes per image for both models."""
    g = torch.Generator().manual_seed(1)
    imgs = [torch.randint(0, 256, (3, height, width), generator=g, dtype=torch.uint8) for _ in range(images)]
    boxes = torch.tensor([[100., 120., 400., 500.], [600., 200., 1000., 700.]])
    return imgs, boxes, torch.tensor([1, 5])


def step_fn(which: str, model: torch.nn.Module, device: str, args):
    """A closure running one training iteration (forward, backward, SGD step) of ``model``."""
    imgs, boxes, labels = batch(device, args.images, args.height, args.width)
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.SGD(params, lr=1e-4, momentum=0.9)
    model.train()
    if which == 'torchvision':
        inputs = [i.to(device).float() / 255 for i in imgs]
        targets = [dict(boxes=boxes.to(device), labels=labels.to(device)) for _ in imgs]
        forward = lambda: model(inputs, targets)  # noqa: E731
    else:
        from mmengine.structures import BaseDataElement, InstanceData
        samples = []
        for _ in imgs:
            s = BaseDataElement(metainfo=dict(img_shape=(args.height, args.width), ori_shape=(args.height, args.width)))
            s.gt_instances = InstanceData(bboxes=boxes.clone(), labels=labels - 1)
            samples.append(s)
        forward = lambda: model(**model.data_preprocessor(dict(inputs=imgs, data_samples=samples), True),  # noqa
                                mode='loss')

    def step() -> None:
        optim.zero_grad()
        sum(forward().values()).backward()
        optim.step()
    return step


def infer_fn(which: str, model: torch.nn.Module, device: str, args):
    imgs, _, _ = batch(device, args.images, args.height, args.width)
    model.eval()
    if which == 'torchvision':
        inputs = [i.to(device).float() / 255 for i in imgs]
        return lambda: model(inputs)
    return lambda: model(**model.data_preprocessor(dict(inputs=imgs, data_samples=None), False), mode='predict')


def top_scores(models: dict, device: str, args, count: int = 5) -> dict[str, torch.Tensor]:
    """The ``count`` best detection scores of each model on the first image, in eval mode."""
    one = argparse.Namespace(**{**vars(args), 'images': 1})
    out = {}
    with torch.no_grad():
        for name, model in models.items():
            result = infer_fn(name, model, device, one)()[0]
            scores = result['scores'] if name == 'torchvision' else result.pred_instances.scores
            out[name] = scores.float().sort(descending=True).values[:count].cpu()
    return out


def check_agreement(models: dict, device: str, args) -> float:
    """max |score difference| of the best detections with the same weights; SystemExit above 1e-3 (a faster model
    that detects something else must not be timed as the same one)."""
    scores = top_scores(models, device, args)
    ours, tv = scores['ours'], scores['torchvision']
    gap = (ours[:len(tv)] - tv[:len(ours)]).abs().max().item() if len(ours) and len(tv) else 0.0
    if len(ours) != len(tv) or gap > 1e-3:
        raise SystemExit(f'benchmark_det.py: with the same weights ours and torchvision give other detections (top '
                         f'scores {ours.tolist()} vs {tv.tolist()}), so their timings would not compare the same '
                         'computation')
    return gap


def sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def timed(run, device: str) -> float:
    sync(device)
    start = time.perf_counter()
    run()
    sync(device)
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (Linux; reset by exec, unlike ru_maxrss), else ru_maxrss."""
    try:
        with open('/proc/self/status') as f:
            return next(int(line.split()[1]) for line in f if line.startswith('VmHWM')) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(args) -> None:
    """Peak memory of one model alone: one training iteration (and one inference on GPU) in this process."""
    model = build(args.worker, args.device, args.height, args.width)
    if args.device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    step_fn(args.worker, model, args.device, args)()
    out = dict(peak_rss_mb=peak_rss_mb())
    if args.device == 'cuda':
        out['train_peak_mb'] = torch.cuda.max_memory_allocated() / 2**20
    print('RESULT ' + json.dumps(out))


def peak_memory(which: str, args) -> dict:
    cmd = [sys.executable, __file__, '--worker', which, '--device', args.device] + [
        f'--{k}={getattr(args, k)}' for k in ('images', 'height', 'width')]
    done = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith('RESULT ')]
    if done.returncode != 0 or not lines:
        raise SystemExit(f'{which} memory worker failed:\n{done.stderr[-2000:]}')
    return json.loads(lines[-1][len('RESULT '):])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--images', type=int, default=2)
    parser.add_argument('--height', type=int, default=800)
    parser.add_argument('--width', type=int, default=1333)
    parser.add_argument('--rounds', type=int, default=3, help='timed iterations per model (default 3)')
    parser.add_argument('--warmup', type=int, default=1, help='untimed iterations per model first (default 1)')
    parser.add_argument('--no-memory', action='store_true', help='skip the peak-memory subprocesses')
    parser.add_argument('--worker', choices=['ours', 'torchvision'], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.images, args.height, args.width, args.rounds) < 1 or args.warmup < 0:
        parser.error(f'--images, --height, --width and --rounds must be >= 1 and --warmup >= 0; got {args.images}, '
                     f'{args.height}, {args.width}, {args.rounds}, {args.warmup}')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: torch.cuda.is_available() is False on this machine')
    if args.worker:
        worker(args)
        return 0
    names = ['ours', 'torchvision']
    memory = {} if args.no_memory else {name: peak_memory(name, args) for name in names}  # before the big parent
    models = {name: build(name, args.device, args.height, args.width) for name in names}
    gap = check_agreement(models, args.device, args)
    summary = {}
    for kind, fn in (('train', step_fn), ('infer', infer_fn)):
        if kind == 'infer' and args.device != 'cuda':
            continue
        runs = {name: fn(name, models[name], args.device, args) for name in names}
        times: dict[str, list[float]] = {name: [] for name in names}
        with torch.enable_grad() if kind == 'train' else torch.no_grad():
            for name in names:
                for _ in range(args.warmup):
                    runs[name]()
            for r in range(args.rounds):
                for name in (names if r % 2 == 0 else names[::-1]):
                    times[name].append(timed(runs[name], args.device))
        for name in names:
            summary.setdefault(name, {})[kind] = statistics.median(times[name])
    for name in names:
        summary[name].update(memory.get(name, {}))
    print(f'Faster R-CNN R50-FPN, {args.images} images of {args.height}x{args.width}, {args.device}, '
          f'torch threads {torch.get_num_threads()}, median of {args.rounds} alternating iterations '
          f'(same weights; top detection scores agree to {gap:.1e}):')
    for name in names:
        s = summary[name]
        line = f'  {name:<12} train {1 / s["train"]:.4f} it/s ({s["train"]:.2f} s/it)'
        line += f', peak RSS {s["peak_rss_mb"]:.0f} MB' if 'peak_rss_mb' in s else ''
        if args.device == 'cuda':
            line += f', train peak GPU memory {s.get("train_peak_mb", float("nan")):.0f} MB, inference ' \
                    f'{args.images / s["infer"]:.1f} images/s'
        print(line)
    ours, tv = summary['ours'], summary['torchvision']
    ratio = f'  ratio ours / torchvision: training speed {tv["train"] / ours["train"]:.3f} (target >= 0.95)'
    if 'peak_rss_mb' in ours:
        ratio += f', peak RSS {ours["peak_rss_mb"] / tv["peak_rss_mb"]:.3f}'
    if args.device == 'cuda':
        ratio += f', inference speed {tv["infer"] / ours["infer"]:.3f}'
    print(ratio)
    return 0


if __name__ == '__main__':
    sys.exit(main())
