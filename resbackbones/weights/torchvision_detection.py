"""torchvision detection checkpoints (fasterrcnn_*_fpn, maskrcnn_*_fpn) -> our FasterRCNN / MaskRCNN keys.

Our detector holds torchvision's RPN and RoI heads as they are, so only the backbone and FPN move:
``backbone.body.X`` -> ``backbone.X`` and ``backbone.fpn.{inner,layer}_blocks.i`` -> ``neck.{lateral,fpn}_convs.i``.
Key names of old torchvision releases (the published COCO weights: ``rpn.head.conv``, ``mask_head.mask_fcn1``,
FPN blocks without ``.0``) are renamed too. ``class_ids`` keeps only some predictor rows, e.g. the 80 COCO
categories out of torchvision's 91 outputs, in our label order. Files are read by ``weights.io.read_checkpoint``.

CLI: ``python -m resbackbones.weights.torchvision_detection IN.pth OUT.pth [--class-ids-from ANN.json]`` writes a
checkpoint that ``tools/test.py CONFIG OUT.pth`` loads.
"""
from __future__ import annotations

import argparse
import json
import os
import re
from typing import Mapping, Sequence

import torch
from torch import nn

from .detector_state import load_detector_state
from .io import Checkpoint, read_checkpoint

RENAMES = (
    (re.compile(r'^backbone\.body\.'), 'backbone.'),
    (re.compile(r'^backbone\.fpn\.inner_blocks\.(\d+)\.(?:0\.)?'), r'neck.lateral_convs.\1.'),
    (re.compile(r'^backbone\.fpn\.layer_blocks\.(\d+)\.(?:0\.)?'), r'neck.fpn_convs.\1.'),
    (re.compile(r'^rpn\.head\.conv\.(weight|bias)$'), r'rpn.head.conv.0.0.\1'),
    (re.compile(r'^roi_heads\.mask_head\.mask_fcn(\d+)\.'), lambda m: f'roi_heads.mask_head.{int(m[1]) - 1}.0.'),
)
PREDICTOR_ROWS = {'roi_heads.box_predictor.cls_score.': 1, 'roi_heads.box_predictor.bbox_pred.': 4,
                  'roi_heads.mask_predictor.mask_fcn_logits.': 1}


def convert_torchvision_detection(state: Mapping[str, torch.Tensor], class_ids: Sequence[int] | None = None
                                  ) -> dict[str, torch.Tensor]:
    """Rename a torchvision detection state dict to ours; ``class_ids`` (torchvision label per our label, 1-based,
    e.g. COCO category ids) selects predictor rows, background row 0 first."""
    out = {}
    for key, value in state.items():
        for pattern, repl in RENAMES:
            key = pattern.sub(repl, key)
        out[key] = value
    if class_ids is not None:
        rows = [0] + [int(c) for c in class_ids]
        if min(rows[1:], default=1) < 1:  # 0 took the background row, -1 wrapped round to the last class
            raise ValueError(f'class_ids are 1-based category ids (row 0 is the background); got {list(class_ids)}')
        for prefix, per_class in PREDICTOR_ROWS.items():
            for name in ('weight', 'bias'):
                key = prefix + name
                if key in out:
                    if max(rows) * per_class >= len(out[key]):
                        raise ValueError(f'class_ids: id {max(rows)} is past the {len(out[key]) // per_class} '
                                         f'classes of {key}')
                    index = torch.tensor([r * per_class + j for r in rows for j in range(per_class)])
                    out[key] = out[key][index]
    return out


def load_torchvision_detection(model: nn.Module, checkpoint: str | os.PathLike | Mapping | Checkpoint,
                               class_ids: Sequence[int] | None = None, strict: bool = True) -> dict[str, list]:
    """Load a torchvision detection checkpoint (path or state dict) into our detector, all or nothing.

    Returns ``dict(missing=[...], unexpected=[...])``. Raises ValueError naming the keys when shapes differ, or
    when ``strict`` and keys are missing or unexpected; the model is then unchanged.
    """
    ckpt = read_checkpoint(checkpoint)
    state = convert_torchvision_detection(ckpt.state, class_ids)
    return load_detector_state(model, state, ckpt.origin, 'torchvision', strict)


def _coco_category_ids(ann_file: str) -> list[int]:
    """Category ids of a COCO json in ascending order: our label order (see CocoDataset)."""
    with open(ann_file) as f:
        return sorted(int(c['id']) for c in json.load(f)['categories'])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description='Convert a torchvision detection checkpoint to resbackbones keys.')
    parser.add_argument('src', help='torchvision checkpoint (state dict of fasterrcnn_*/maskrcnn_*)')
    parser.add_argument('dst', help='output .pth ({"state_dict": ...}, loadable by tools/test.py)')
    parser.add_argument('--class-ids-from', metavar='ANN_JSON', help='keep the predictor rows of these COCO '
                        'category ids (torchvision labels are COCO ids), e.g. instances_val2017.json -> 80 classes')
    args = parser.parse_args(argv)
    ids = _coco_category_ids(args.class_ids_from) if args.class_ids_from else None
    state = convert_torchvision_detection(read_checkpoint(args.src).state, ids)
    tmp = f'{args.dst}.tmp'
    torch.save({'state_dict': state, 'meta': {'converted_from': os.path.basename(args.src)}}, tmp)
    os.replace(tmp, args.dst)
    print(f'wrote {args.dst}: {len(state)} tensors' + (f', {len(ids)} classes' if ids else ''))


if __name__ == '__main__':
    main()
