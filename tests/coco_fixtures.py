"""Tiny COCO data written in the exact public format, shared by the detection tests (they put tests/ on sys.path).
Objects are filled rectangles, so their box, polygon and mask agree exactly."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

CATEGORIES = [dict(id=1, name='cat'), dict(id=3, name='dog')]  # a gap in ids, as COCO has


def rect_polygon(x: float, y: float, w: float, h: float) -> list[float]:
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def write_coco(root: Path, objects: Sequence[Sequence[tuple]] = (((10, 12, 20, 16, 1), (40, 30, 15, 20, 3)),
                                                                  ((5, 5, 30, 30, 3),)),
               size: tuple[int, int] = (64, 80), categories: list[dict] = CATEGORIES, extra_anns: Sequence[dict] = (),
               seed: int = 0) -> tuple[Path, Path]:
    """Write ``root/images/<i>.png`` and ``root/ann.json``: image i holds rectangles (x, y, w, h, category_id)
    drawn bright on a dark noisy background. Returns (ann_file, image folder)."""
    rng = np.random.default_rng(seed)
    img_dir = root / 'images'
    img_dir.mkdir(parents=True, exist_ok=True)
    h, w = size
    images, anns = [], []
    for i, rects in enumerate(objects, start=1):
        pixels = rng.integers(0, 40, size=(h, w, 3), dtype=np.uint8)
        for x, y, bw, bh, cat in rects:
            pixels[y:y + bh, x:x + bw] = 200 if cat == 1 else 120
            anns.append(dict(id=len(anns) + 1, image_id=i, category_id=cat, bbox=[x, y, bw, bh], area=bw * bh,
                             iscrowd=0, segmentation=[rect_polygon(x, y, bw, bh)]))
        Image.fromarray(pixels).save(img_dir / f'{i}.png')
        images.append(dict(id=i, file_name=f'{i}.png', height=h, width=w))
    anns += [dict(dict(id=len(anns) + 1 + k), **a) for k, a in enumerate(extra_anns)]
    ann_file = root / 'ann.json'
    ann_file.write_text(json.dumps(dict(images=images, annotations=anns, categories=categories)))
    return ann_file, img_dir


def tiny_maskrcnn_config(root: Path) -> Path:
    """COCO files of one class under ``root`` and a config over them: the nuclei Mask R-CNN config at tiny widths
    (base width 8, FPN 16), keeping every detection (score_thr 0) so that random weights still reach the mask
    branch. Returns the config path."""
    write_coco(root, objects=(((10, 12, 20, 16, 1), (40, 30, 15, 20, 1)), ((5, 5, 30, 30, 1),)),
               categories=[dict(id=1, name='nucleus')])
    base = Path(__file__).resolve().parents[1] / 'configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei.py'
    data = f"data_root={str(root)!r}, ann_file='ann.json', data_prefix=dict(img='images/')"
    config = root / 'tiny_maskrcnn.py'
    config.write_text(
        f"_base_ = [{str(base)!r}]\n"
        "model = dict(backbone=dict(base_channels=8), neck=dict(out_channels=16),\n"
        "             roi_head=dict(fc_out_channels=32, mask_channels=(8, 8)), test_cfg=dict(rcnn=dict(score_thr=0.0)))\n"
        f"test_dataloader = dict(dataset=dict({data}))\n"
        f"train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(dataset=dict({data})))\n"
        "val_dataloader = test_dataloader\n")
    return config
