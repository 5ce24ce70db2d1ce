"""Parameters and multiply-adds (GMACs) of a named model or of the model in a config file.

    python tools/analysis/get_flops.py resnet50                       # backbone, 224x224
    python tools/analysis/get_flops.py resnet50 --num-classes 1000    # as the paper counts: backbone + fc
    python tools/analysis/get_flops.py configs/some_config.py --shape 800 1333
    python tools/analysis/get_flops.py --all                          # markdown table of every named model

A config's ``model.backbone`` is counted when the model has one (detectors and segmentors need more than an image
to run), else ``model``. Without --shape a config's input is the size its model runs at where the config
says: a face model's ``input_size``, a sliding-window U-Net's ``test_cfg.patch_size`` (3D for volumes), a 3D video
model's test clip (clip_len x crop); else 224x224. Models are built on the meta device: counting allocates no
weights and computes nothing.
GMACs = FLOPs / 2 (see resbackbones/analysis/complexity.py). Bad input: one line on stderr, exit status 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

import resbackbones
from resbackbones.analysis import count_gmacs, count_params, markdown_table, model_table_rows
from resbackbones.registry import MODELS


class InputError(Exception):
    """A bad name, file or key given on the command line; reported as one line with exit status 2."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('model', nargs='?', help='a named model (see resbackbones.list_models()) or a config file')
    parser.add_argument('--shape', type=int, nargs='+', default=None, metavar='SIZE',
                        help="input H W (T H W for video backbones, D H W for volumes); default: the config's "
                             'input_size or slide patch_size, else 224 224')
    parser.add_argument('--in-channels', type=int, default=None, help="input channels (default: the model's own)")
    parser.add_argument('--num-classes', type=int, default=None,
                        help='named models only: count the classifier with this many classes, not the backbone')
    parser.add_argument('--all', action='store_true', help='print the markdown table of every named model')
    args = parser.parse_args(argv)
    if args.all == (args.model is not None):
        parser.error('give either a model name / config file or --all')
    if args.shape is not None and (len(args.shape) not in (2, 3) or min(args.shape) < 1):
        parser.error(f'--shape takes 2 (H W) or 3 (T H W) positive sizes; got {args.shape}')
    if args.in_channels is not None and args.in_channels < 1:
        parser.error(f'--in-channels must be >= 1; got {args.in_channels}')
    if args.all and (args.in_channels is not None or args.num_classes is not None or
                     (args.shape is not None and len(args.shape) != 2)):
        # the table was printed for 3 channels and 1000 classes whatever was asked (and 3 sizes failed inside)
        parser.error('--all takes only --shape H W (the table is of the named 2D backbones, 3 channels)')
    return args


def is_config_path(arg: str) -> bool:
    return arg.endswith('.py') or '/' in arg or Path(arg).is_file()


def build_named(name: str, in_channels: int | None, num_classes: int | None) -> tuple[nn.Module, str]:
    overrides = {} if in_channels is None else {'in_channels': in_channels}
    try:
        model = resbackbones.create_model(name, num_classes=num_classes, **overrides)
    except ValueError as err:
        raise InputError(str(err)) from None
    return model, f'{name} ({"classifier" if num_classes else "backbone"})'


def config_input_size(model_cfg: dict, dims: int = 2) -> tuple[tuple[int, ...], str] | None:
    """The input size a config runs its model at, and where it says so: a face model's ``input_size``, a
    sliding-window U-Net's ``test_cfg.patch_size`` (one int: that size on each of the ``dims`` spatial axes, as
    the U-Net reads it); None when it does not say."""
    test_cfg = model_cfg.get('test_cfg') or {}
    for key, value in (('model.input_size', model_cfg.get('input_size')),
                       ('model.test_cfg.patch_size', test_cfg.get('patch_size') if test_cfg.get('mode') == 'slide'
                        else None)):
        if isinstance(value, int):
            return (value,) * dims, key
        if isinstance(value, (list, tuple)) and len(value) in (2, 3) and all(isinstance(v, int) for v in value):
            return tuple(value), key
    return None


SAMPLERS = ('SampleFrames', 'DenseSampleFrames', 'UniformSample', 'UniformSampleFrames')
CROPS = ('CenterCrop', 'ThreeCrop', 'TenCrop')


def pipeline_clip_size(cfg) -> tuple[tuple[int, ...], str] | None:
    """A video config's clip, (T, H, W): the frame sampler's ``clip_len`` and the crop of its test (else val)
    pipeline (mmaction2's ``crop_size``: S or (w, h)); None when the pipeline does not say."""
    for split in ('test_dataloader', 'val_dataloader'):
        pipeline = ((cfg.get(split) or {}).get('dataset') or {}).get('pipeline') or []
        steps = [t for t in pipeline if isinstance(t, dict)]
        clip = next((t.get('clip_len') for t in steps if t.get('type') in SAMPLERS), None)
        crop = next((t.get('crop_size') for t in steps if t.get('type') in CROPS), None)
        if isinstance(clip, int) and isinstance(crop, int):
            return (clip, crop, crop), f'{split} pipeline'
        if isinstance(clip, int) and isinstance(crop, (list, tuple)) and len(crop) == 2:
            return (clip, crop[1], crop[0]), f'{split} pipeline'
    return None


def build_from_config(path: str, in_channels: int | None) -> tuple[nn.Module, str, tuple | None]:
    """The config's backbone (or model), its label, and ``config_input_size``'s answer."""
    from mmengine.config import Config
    if not Path(path).is_file():
        raise InputError(f'config file not found: {path}')
    try:
        cfg = Config.fromfile(path)
    except Exception as err:  # syntax errors, missing _base_ files ...: report them as one line
        raise InputError(f'{path}: cannot read the config: {type(err).__name__}: {err}') from None
    model_cfg = cfg.get('model')
    if not isinstance(model_cfg, dict) or 'type' not in model_cfg:
        raise InputError(f"{path}: expected a 'model' dict with a 'type' key; got {model_cfg!r}")
    key, part = ('model.backbone', model_cfg['backbone']) if 'backbone' in model_cfg else ('model', model_cfg)
    part = dict(part, **({} if in_channels is None else {'in_channels': in_channels}))
    try:
        model = MODELS.build(part)
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f'{path}: cannot build {key}: {err}') from None
    from resbackbones.models.unet import backbone_dims
    dims = backbone_dims(model)
    size = config_input_size(model_cfg, dims) or (pipeline_clip_size(cfg) if dims == 3 else None)
    return model, f'{path}: {key} ({part.get("type")})', size


def input_channels(model: nn.Module) -> int:
    backbone = getattr(model, 'backbone', model)
    return getattr(backbone, 'in_channels', 3)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    size = tuple(args.shape or (224, 224))
    if args.all:
        print(markdown_table(model_table_rows(size=size), size=size))
        return 0
    try:
        with torch.device('meta'):
            if is_config_path(args.model):
                if args.num_classes is not None:
                    raise InputError('--num-classes applies to named models only, not to config files')
                model, label, from_config = build_from_config(args.model, args.in_channels)
            else:
                (model, label), from_config = build_named(args.model, args.in_channels, args.num_classes), None
    except InputError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    from_config = from_config if args.shape is None else None
    size = from_config[0] if from_config else size
    shape = (input_channels(model), *size)
    frames = getattr(getattr(model, 'backbone', model), 'num_segments', 1)  # TSM, TIN, TANet: one clip's frames
    batch = 'x'.join(map(str, (frames, *shape))) + (f' (one clip of {frames} frames)' if frames > 1 else '')
    try:
        gmacs = count_gmacs(model, shape, batch=frames)
    except (RuntimeError, ValueError, TypeError, NotImplementedError) as err:  # torch's shape errors, our named
        # ones, and a forward of several inputs (RGBPoseConv3D takes heatmaps and images)
        print(f'error: {label} does not run on a {batch} input (check --shape / --in-channels): {err}',
              file=sys.stderr)
        return 2
    print(f'model:  {label}')
    print(f'input:  {batch}' + (f' ({from_config[1]})' if from_config else ''))
    print(f'params: {count_params(model) / 1e6:.2f} M')
    print(f'GMACs:  {gmacs:.2f}  (multiply-adds; FLOPs = 2 x MACs)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
