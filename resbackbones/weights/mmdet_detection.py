"""mmdet Faster / Mask R-CNN checkpoints (FPN, Shared2FCBBoxHead, FCNMaskHead) -> our FasterRCNN / MaskRCNN keys.

mmdet and torchvision build the same heads with different names and one different convention: mmdet puts the
background class last in ``fc_cls`` and predicts boxes and masks for the foreground classes only, torchvision puts
background first and has a (never used) background row in the box and mask predictors. So besides renaming:

- ``fc_cls`` rows are rotated, background moving from last to first;
- ``fc_reg`` gets 4 zero background rows in front (a class-agnostic ``fc_reg`` is repeated for every class);
- ``conv_logits`` gets one zero background row in front (a class-agnostic one is repeated).

The backbone keys go through ``align_keys`` (ResNet-D stems, avg-down shortcuts, GN names), as for mmdet backbone
files. Labels keep mmdet's order (for COCO: ascending category id, as our CocoDataset). Heads this converter does
not know (softmax RPN, conv bbox heads, Cascade stages) stay as unexpected keys and make a strict load fail.

CLI: ``python -m resbackbones.weights.mmdet_detection IN.pth OUT.pth --config CONFIG`` writes a checkpoint that
``tools/test.py CONFIG OUT.pth`` loads.
"""
from __future__ import annotations

import argparse
import os
import re
from typing import Collection, Mapping, Sequence

import torch
from torch import nn

from .align import align_keys, shortcut_forms
from .detector_state import load_detector_state
from .io import Checkpoint, read_checkpoint

RENAMES = (
    (re.compile(r'^neck\.(lateral|fpn)_convs\.(\d+)\.conv\.'), r'neck.\1_convs.\2.'),
    (re.compile(r'^rpn_head\.rpn_conv\.'), 'rpn.head.conv.0.0.'),
    (re.compile(r'^rpn_head\.rpn_cls\.'), 'rpn.head.cls_logits.'),
    (re.compile(r'^rpn_head\.rpn_reg\.'), 'rpn.head.bbox_pred.'),
    (re.compile(r'^roi_head\.bbox_head\.shared_fcs\.0\.'), 'roi_heads.box_head.fc6.'),
    (re.compile(r'^roi_head\.bbox_head\.shared_fcs\.1\.'), 'roi_heads.box_head.fc7.'),
    (re.compile(r'^roi_head\.bbox_head\.fc_cls\.'), 'roi_heads.box_predictor.cls_score.'),
    (re.compile(r'^roi_head\.bbox_head\.fc_reg\.'), 'roi_heads.box_predictor.bbox_pred.'),
    (re.compile(r'^roi_head\.mask_head\.convs\.(\d+)\.conv\.'), r'roi_heads.mask_head.\1.0.'),
    (re.compile(r'^roi_head\.mask_head\.upsample\.'), 'roi_heads.mask_predictor.conv5_mask.'),
    (re.compile(r'^roi_head\.mask_head\.conv_logits\.'), 'roi_heads.mask_predictor.mask_fcn_logits.'),
)
CLS = 'roi_heads.box_predictor.cls_score.'
REG = 'roi_heads.box_predictor.bbox_pred.'
MASK = 'roi_heads.mask_predictor.mask_fcn_logits.'


def _with_background_first(value: torch.Tensor, per_class: int, num_classes: int, key: str) -> torch.Tensor:
    """Foreground-only predictor rows (or one class-agnostic set) -> torchvision's rows, background first."""
    if len(value) == per_class * num_classes:
        return torch.cat([value.new_zeros((per_class, *value.shape[1:])), value])
    if len(value) == per_class:  # class-agnostic: the same rows serve every class
        return value.repeat(num_classes + 1, *([1] * (value.dim() - 1)))
    raise ValueError(f'{key}: {len(value)} rows, expected {per_class} x {num_classes} classes (fc_cls has '
                     f'{num_classes} + background) or {per_class} (class-agnostic)')


def convert_mmdet_detection(state: Mapping[str, torch.Tensor], backbone_keys: Collection[str] = (),
                            forms: Mapping[str, str] | None = None) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Rename an mmdet detector state dict to ours; returns it and notes on what was rearranged.

    ``backbone_keys``: the target backbone's own keys (without 'backbone.'), so ResNet-D/GN layouts are aligned;
    ``forms``: its ``shortcut_forms``, so a ResNet-C file is refused by a ResNet-D backbone and back.
    """
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    aligned, _, notes = align_keys(backbone, backbone_keys, forms) if backbone_keys else (backbone, {}, [])
    out = {f'backbone.{k}': v for k, v in aligned.items()}
    for key, value in state.items():
        if key.startswith('backbone.'):
            continue
        for pattern, repl in RENAMES:
            key = pattern.sub(repl, key)
        out[key] = value
    if f'{CLS}weight' not in out:
        return out, notes
    num_classes = len(out[f'{CLS}weight']) - 1
    for name in ('weight', 'bias'):
        out[f'{CLS}{name}'] = torch.cat([out[f'{CLS}{name}'][-1:], out[f'{CLS}{name}'][:-1]])
        for prefix, per_class in ((REG, 4), (MASK, 1)):
            if f'{prefix}{name}' in out:
                out[f'{prefix}{name}'] = _with_background_first(out[f'{prefix}{name}'], per_class, num_classes,
                                                                f'{prefix}{name}')
    notes.append('background class moved from last (mmdet) to first; zero background rows added to the box and '
                 'mask predictors')
    return out, notes


def load_mmdet_detection(model: nn.Module, checkpoint: str | os.PathLike | Mapping | Checkpoint,
                         strict: bool = True) -> dict[str, list]:
    """Load an mmdet Faster/Mask R-CNN checkpoint (path or state dict) into our detector, all or nothing.

    Returns ``dict(missing=[...], unexpected=[...], notes=[...])``; raises ValueError naming the keys when shapes
    differ, or when ``strict`` and keys are missing or unexpected (the model is then unchanged).
    """
    ckpt = read_checkpoint(checkpoint)
    backbone_keys = [k[len('backbone.'):] for k in model.state_dict() if k.startswith('backbone.')]
    forms = shortcut_forms(model.backbone) if isinstance(getattr(model, 'backbone', None), nn.Module) else None
    state, notes = convert_mmdet_detection(ckpt.state, backbone_keys, forms)
    return {**load_detector_state(model, state, ckpt.origin, 'mmdet', strict), 'notes': notes}


def main(argv: Sequence[str] | None = None) -> None:
    from ..apis.inference import init_detector
    from ..engine.atomic import atomic_path

    parser = argparse.ArgumentParser(description='Convert an mmdet Faster/Mask R-CNN checkpoint to our keys.')
    parser.add_argument('src', help="mmdet checkpoint ({'state_dict': ..., 'meta': ...})")
    parser.add_argument('dst', help='output .pth ({"state_dict": ...}, loadable by tools/test.py)')
    parser.add_argument('--config', required=True, help='our config of the same detector: the converted weights '
                        'are loaded into it (strict) before anything is written')
    args = parser.parse_args(argv)
    model = init_detector(args.config)
    report = load_mmdet_detection(model, args.src)
    for note in report['notes']:
        print(f'  {note}')
    with atomic_path(args.dst) as tmp:
        torch.save({'state_dict': model.state_dict(), 'meta': {'converted_from': os.path.basename(args.src)}}, tmp)
    print(f'wrote {args.dst}: {len(model.state_dict())} tensors')


if __name__ == '__main__':
    main()
