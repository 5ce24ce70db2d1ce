"""Deployed speed against the eager reference, side by side in one run, with the output agreement.

    python tools/benchmark_deploy.py resnet50 [--rounds 7] [--threads 2]
    python tools/benchmark_deploy.py unet [--checkpoint CKPT]      # configs/unet/unet_r34_nuclei.py
    python tools/benchmark_deploy.py maskrcnn [--checkpoint CKPT]  # configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei.py
    python tools/benchmark_deploy.py configs --models CFG CKPT [CFG CKPT ...]  # e.g. unpruned vs pruned
    ... [--variants torch:fp32 torch:bf16 torch:bf16:compile onnxruntime:fp32 openvino:fp32 openvino:bf16
         openvino:int8 openvino:int8:features openvino:bf16:dynamic]

resnet50: batch 8 at 224 (crops of the real images in data/labelme_coco), reference torchvision's resnet50 fp32
eager; ours is our ImageClassifier holding the same weights, deployed; 'bare_openvino:*' is OpenVINO on
torchvision's model directly (the tool without this project). unet: sliding-window inference (patch 256,
overlap 0.25, Gaussian, 4 patches a call) of the real nuclei training image, reference smp's Unet('resnet34')
eager (same decoder widths); agreement is against our eager fp32. maskrcnn: predict on the real nuclei image,
reference torchvision's GeneralizedRCNN eager with the same weights (our RPN / RoI heads are torchvision's);
deployed variants run backbone + FPN and the box and mask branches in the backend (RoIAlign, NMS and pasting in
torch); ':features' variants (default: openvino:int8:features) deploy backbone + FPN only. OpenVINO variants,
bare ones included, also compile the shapes they are called at (the backend's default); ':dynamic' ones run its
dynamic-shape model only. configs: each config's model with its
checkpoint in eager fp32 (--variants do not apply), one forward of the first config's whole test split, reference
the first; with params and backbone GMACs (tools/prune.py's pruned configs against the unpruned one). Weights: the
checkpoint when given,
else seeded random ones (BN statistics randomised so folding is not trivial). int8 calibrates on real images.
Each round times every variant once (in a shuffled order); speed-up = median of per-round ratios to the reference.
Run it alone on the machine (flock /work/helpers/cpu.lock) with OMP_NUM_THREADS set.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys

import torch
from torch import nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from mmengine.config import Config  # noqa: E402

from resbackbones.apis import sliding_window_inference  # noqa: E402
from resbackbones.deploy import attach, build_backend, build_detector_backend, deploy_target  # noqa: E402
from resbackbones.deploy.loading import load_task_model, real_batches  # noqa: E402
from resbackbones.deploy.pipeline import agreement  # noqa: E402
from resbackbones.deploy.timing import interleaved, ratios, table  # noqa: E402
from resbackbones.engine.config import model_config  # noqa: E402
from resbackbones.registry import MODELS  # noqa: E402

DEFAULT_VARIANTS = ('torch:fp32', 'torch:bf16', 'onnxruntime:fp32', 'openvino:fp32', 'openvino:bf16',
                    'openvino:int8')
UNET_CFG = os.path.join(REPO, 'configs/unet/unet_r34_nuclei.py')
MRCNN_CFG = os.path.join(REPO, 'configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei.py')


def randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model.eval()


VARIANT_MODIFIERS = {'compile', 'dynamic', 'features'}


def build_variants(target, specs, calibration, detector: nn.Module | None = None) -> dict:
    """'backend:precision[:compile|:features]' -> built backend (compile applies to torch only). With a
    ``detector``, a variant deploys it whole (features + RoI branches) unless it ends in ':features'."""
    out = {}
    for spec in specs:
        name, precision, *rest = spec.split(':')
        options = {'compile': True} if 'compile' in rest else {}
        if 'dynamic' in rest:  # OpenVINO on its dynamic-shape model only, no model compiled for the input's shape
            options['static_shapes'] = 0
        if precision == 'int8':
            options['calibration'] = calibration
        if detector is not None and 'features' not in rest:
            out[f'ours_{spec}'] = build_detector_backend(name, detector, target, precision, **options)
        else:
            out[f'ours_{spec}'] = build_backend(name, target, precision, **options)
    return out


def labelme_crops(count: int, size: int = 224) -> torch.Tensor:
    """``count`` size x size crops of the real photos in data/labelme_coco, ImageNet-normalised (N, 3, H, W)."""
    from PIL import Image
    folder = os.path.join(REPO, 'data', 'labelme_coco', 'JPEGImages')
    if not os.path.isdir(folder):
        raise SystemExit(f'{folder} not found: run python tools/data/fetch_data.py labelme_coco')
    photos = [torch.from_numpy(__import__('numpy').asarray(Image.open(os.path.join(folder, f)).convert('RGB')))
              for f in sorted(os.listdir(folder))]
    g, crops = torch.Generator().manual_seed(0), []
    for i in range(count):
        img = photos[i % len(photos)].permute(2, 0, 1).float()
        y = int(torch.randint(0, img.shape[1] - size + 1, (1,), generator=g))
        x = int(torch.randint(0, img.shape[2] - size + 1, (1,), generator=g))
        crops.append(img[:, y:y + size, x:x + size])
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    return (torch.stack(crops) - mean) / torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


def resnet50(args) -> tuple[dict, dict, float, str]:
    import torchvision
    torch.manual_seed(0)
    tv = randomise_bn(torchvision.models.resnet50())
    ours = MODELS.build(dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=50), num_classes=1000))
    state = {('head.' if k.startswith('fc.') else 'backbone.') + k: v for k, v in tv.state_dict().items()}
    ours.load_state_dict(state, strict=True)
    crops = labelme_crops(args.batch * 5)
    x, calibration = crops[:args.batch], list(crops[args.batch:].split(args.batch))
    variants = build_variants(deploy_target(ours.eval(), x), args.variants, calibration)
    bare = deploy_target(tv, x)
    for precision in ('fp32', 'bf16', 'int8'):
        if f'openvino:{precision}' in args.variants:
            variants[f'bare_openvino:{precision}'] = build_backend('openvino', bare, precision, fold=False,
                                                                   calibration=calibration)
    with torch.no_grad():
        reference = tv(x)
    runs = {'torchvision_eager:fp32': lambda: tv(x), **{n: (lambda b=b: b(x)) for n, b in variants.items()}}
    extra = {n: agreement(reference, b(x)) for n, b in variants.items()}
    return runs, extra, float(args.batch), 'img/s'


def unet(args) -> tuple[dict, dict, float, str]:
    import segmentation_models_pytorch as smp
    cfg = Config.fromfile(UNET_CFG)
    torch.manual_seed(0)
    ours = load_task_model(cfg, args.checkpoint) if args.checkpoint else randomise_bn(MODELS.build(model_config(cfg)))
    image = real_batches(cfg, ours, 'train', 1)[0]
    ref = randomise_bn(smp.Unet('resnet34', encoder_weights=None, in_channels=image.shape[1], classes=1,
                                decoder_channels=(256, 128, 64, 32, 16)))
    patch = 256
    calibration = [image[..., y:y + patch, x:x + patch] for y in (0, image.shape[-2] - patch)
                   for x in (0, image.shape[-1] - patch)]
    variants = build_variants(deploy_target(ours, calibration[0]), args.variants, calibration)

    def slide(fn):
        return lambda: sliding_window_inference(image, fn, patch, overlap=0.25, blend='gaussian', batch_size=4)
    with torch.no_grad():
        reference = slide(ours.logits)()
        runs = {'smp_eager:fp32': slide(ref), 'ours_eager:fp32': slide(ours.logits),
                **{n: slide(b) for n, b in variants.items()}}
        extra = {n: agreement(reference, slide(b)()) for n, b in variants.items()}
    return runs, extra, float(image.shape[-2] * image.shape[-1]) / 1e6, 'Mpx/s'


def torchvision_twin(ours: nn.Module) -> nn.Module:
    """torchvision's GeneralizedRCNN holding our detector's weights: its ResNet + FPN, our (torchvision) heads
    pooling with torchvision's own RoIAlign kernel."""
    from torchvision.models import resnet18
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.models.detection.generalized_rcnn import GeneralizedRCNN
    from torchvision.models.detection.transform import GeneralizedRCNNTransform
    body = resnet18()
    body.conv1 = nn.Conv2d(ours.backbone.in_channels, 64, 7, 2, 3, bias=False)
    specs = ours.neck.feature_specs
    backbone = BackboneWithFPN(body, {f'layer{i}': str(i - 1) for i in range(1, 5)}, [64, 128, 256, 512],
                               specs[0].channels)
    state = {}
    for key, value in ours.state_dict().items():
        if key.startswith('backbone.'):
            state['body.' + key[len('backbone.'):]] = value
        elif key.startswith('neck.'):
            _, kind, index, rest = key.split('.', 3)
            block = {'lateral_convs': 'inner_blocks', 'fpn_convs': 'layer_blocks'}[kind]
            state[f'fpn.{block}.{index}.0.{rest}'] = value
    backbone.load_state_dict(state, strict=True)
    pre = ours.data_preprocessor
    transform = GeneralizedRCNNTransform(512, 512, pre.mean.flatten().tolist(), pre.std.flatten().tolist(),
                                         size_divisible=32)
    roi_heads = copy.deepcopy(ours.roi_heads)
    for pooler in (roi_heads.box_roi_pool, roi_heads.mask_roi_pool):
        if pooler is not None:
            pooler.impl = 'torchvision'
    return GeneralizedRCNN(backbone, copy.deepcopy(ours.rpn), roi_heads, transform).eval()


def maskrcnn(args) -> tuple[dict, dict, float, str]:
    cfg = Config.fromfile(MRCNN_CFG)
    torch.manual_seed(0)
    ours = load_task_model(cfg, args.checkpoint) if args.checkpoint else randomise_bn(MODELS.build(model_config(cfg)))
    raw = real_batches(cfg, ours, 'train', 1)[0]  # preprocessed (normalised, padded) for the backends
    pre = ours.data_preprocessor
    image = (raw * pre.std + pre.mean)[0]  # back to pixel values for both models' own preprocessing
    tv = torchvision_twin(ours)
    calibration = [raw]
    specs = args.variants if args.variants != list(DEFAULT_VARIANTS) else DEFAULT_VARIANTS + ('openvino:int8:features',)
    variants = build_variants(deploy_target(ours, raw), specs, calibration, detector=ours)
    deployed = {n: attach(copy.deepcopy(ours), b) for n, b in variants.items()}

    def predict(model):
        return lambda: model(**model.data_preprocessor(dict(inputs=[image], data_samples=None), False),
                             mode='predict')[0].pred_instances
    with torch.no_grad():
        mine, theirs = predict(ours)(), tv([image / 1.0])[0]
        print(f'ours eager vs torchvision eager: {len(mine.bboxes)} vs {len(theirs["boxes"])} detections, '
              f'max |box diff| {_box_diff(mine.bboxes, theirs["boxes"]):.2e}')
        runs = {'torchvision_eager:fp32': lambda: tv([image]), 'ours_eager:fp32': predict(ours),
                **{n: predict(m) for n, m in deployed.items()}}
        extra = {}
        for n, m in deployed.items():
            got = predict(m)()
            union, union_eager = got.masks.any(0), mine.masks.any(0)
            extra[n] = {'detections': len(got.bboxes), 'eager_detections': len(mine.bboxes),
                        'cosine': agreement(ours.tensor(raw), variants[n](raw))['cosine'],
                        'mask_iou_vs_eager': float((union & union_eager).sum() / (union | union_eager).sum())}
    return runs, extra, 1.0, 'img/s'


def row_name(config: str) -> str:
    """A config's row in the configs table: its folder and file name without the extension."""
    folder = os.path.basename(os.path.dirname(os.path.abspath(config)))
    return f'{folder}/{os.path.splitext(os.path.basename(config))[0]}'


def configs(args) -> tuple[dict, dict, float, str]:
    from resbackbones.analysis import count_gmacs, count_params
    pairs = list(zip(args.models[::2], args.models[1::2]))
    models = {}
    for path, ckpt in pairs:
        models[row_name(path)] = load_task_model(Config.fromfile(path), ckpt)
    first = next(iter(models.values()))
    x = torch.cat(real_batches(Config.fromfile(pairs[0][0]), first, 'test', 10 ** 6))
    extra = {name: {'params_M': count_params(m) / 1e6, 'backbone_GMACs': count_gmacs(m.backbone, x.shape[1:])}
             for name, m in models.items()}
    return {name: (lambda m=m: m.tensor(x)) for name, m in models.items()}, extra, float(len(x)), 'img/s'


def _box_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item() if a.shape == b.shape and len(a) else float('nan')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('task', choices=['resnet50', 'unet', 'maskrcnn', 'configs'])
    parser.add_argument('--checkpoint', help='unet / maskrcnn: trained weights for their config')
    parser.add_argument('--models', nargs='+', default=[], metavar='CFG CKPT', help='configs: config, checkpoint pairs')
    parser.add_argument('--variants', nargs='+', default=list(DEFAULT_VARIANTS), metavar='BACKEND:PRECISION')
    parser.add_argument('--batch', type=int, default=8, help='resnet50 batch (default 8)')
    parser.add_argument('--rounds', type=int, default=7)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    if (args.task == 'configs') != bool(args.models) or len(args.models) % 2:
        parser.error('--models CFG CKPT [CFG CKPT ...] goes with the configs task (and only with it)')
    missing = [p for p in args.models if not os.path.isfile(p)]
    if missing:
        parser.error(f'--models: file not found: {missing[0]}')
    names = [row_name(path) for path in args.models[::2]]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # a second checkpoint of one config would replace the first's row, unnoticed
        parser.error(f'--models: row {twice[0]!r} comes twice (rows are named by folder and config file); give each '
                     f'pair its own config file name or folder')
    # each a traceback before (or a silent default), some only after every model had been built
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1; got {args.threads}')
    if args.batch < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error(f'--batch and --rounds must be >= 1, --warmup >= 0; got {args.batch}, {args.rounds}, '
                     f'{args.warmup}')
    for spec in args.variants:
        parts = spec.split(':')
        if len(parts) < 2 or not parts[0] or not parts[1] or set(parts[2:]) - VARIANT_MODIFIERS:
            parser.error(f'--variants {spec!r}: expected BACKEND:PRECISION[:MODIFIER ...] with modifiers from '
                         f'{sorted(VARIANT_MODIFIERS)} (e.g. torch:bf16:compile)')
    if args.checkpoint is not None and args.task not in ('unet', 'maskrcnn'):
        parser.error(f'--checkpoint goes with the unet and maskrcnn tasks; {args.task} would ignore it')
    if args.task == 'configs' and args.variants != list(DEFAULT_VARIANTS):
        parser.error('--variants do not apply to the configs task (each checkpoint runs in eager fp32)')
    if args.threads:
        torch.set_num_threads(args.threads)
    runs, extra, units, unit = {'resnet50': resnet50, 'unet': unet, 'maskrcnn': maskrcnn,
                                'configs': configs}[args.task](args)
    reference = next(iter(runs))
    with torch.no_grad():
        result = ratios(interleaved(runs, args.rounds, args.warmup), reference)
    print(f'{args.task}: torch {torch.__version__}, threads {torch.get_num_threads()}, nproc {os.cpu_count()}, '
          f'{args.rounds} rounds; speed-up = median of per-round ratios to {reference} (range)')
    print(table(result, units, unit, extra, reference))
    # the configs task's extra figures are the rows' sizes (params, GMACs), the others' output agreement
    print(json.dumps({'task': args.task, 'threads': torch.get_num_threads(), 'result': result,
                      'sizes' if args.task == 'configs' else 'agreement': extra}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
