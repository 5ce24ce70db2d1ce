"""Instance-label images (0 = background, each other value one object) -> a COCO instance json + 8-bit PNGs.

    python tools/data/instance_to_coco.py --images a.tif [b.tif ...] --labels a_mask.tif [b_mask.tif ...] \
        --out-json out/train.json [--image-dir out/images] [--format rle|polygon] [--category nucleus] \
        [--crop X0 Y0 X1 Y1] [--min-area 0] [--normalize none|percentile]

Each object becomes one annotation: its exact mask as RLE (default) or its outer contours as polygons (objects
whose contours have fewer than 3 points fall back to RLE, counted), ``bbox`` and ``area`` from the mask
(pycocotools), iscrowd 0. Images are written as 8-bit PNGs (file_name relative to the json's folder); 16-bit
inputs must fit in 0..255 unless ``--normalize percentile`` rescales the 1st..99.8th percentiles. ``--crop``
keeps one region (objects cut by it keep their visible part). Every pair is read and checked before anything is
written (a bad pair leaves no PNG behind), and every file goes to a temporary name first and is renamed, so an
interrupted run leaves no half-written json. Multi-page files (stacks) and float images that are not whole 8-bit
levels are refused, naming the file.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from resbackbones.engine.atomic import atomic_path  # noqa: E402


# intensity-image modes whose raw arrays are not their colours: palette indices, CMYK ink, other colour spaces
TO_RGB = ('P', 'PA', 'CMYK', 'YCbCr', 'LAB', 'HSV')


def read_array(path: str, colours: bool = False) -> np.ndarray:
    """A 2D array (or HxWxC image) from any PIL-readable file; errors name the file. ``colours`` (intensity
    images): palette, CMYK and other colour-space images as their RGB(A) colours, as the library's loader reads
    them (their raw arrays were written out: palette indices as grey levels, CMYK as transparent RGBA); a 1-bit
    image as 0/255. Label images keep their raw values."""
    try:
        with Image.open(path) as img:
            if getattr(img, 'n_frames', 1) > 1:  # PIL reads the first page only: the others would be dropped
                raise ValueError(f'{path} holds {img.n_frames} pages (a stack); give one 2D image per file')
            if colours and img.mode in TO_RGB:
                alpha = img.mode == 'PA' or (img.mode == 'P' and 'transparency' in img.info)
                img = img.convert('RGBA' if alpha else 'RGB')
            elif colours and img.mode == '1':
                img = img.convert('L')
            return np.asarray(img)
    except FileNotFoundError:
        raise FileNotFoundError(f'file not found: {path}') from None
    except OSError as err:
        raise ValueError(f'cannot read {path}: {err}') from None


def to_uint8(image: np.ndarray, normalize: str, path: str) -> np.ndarray:
    """The image as uint8: unchanged when it fits in 0..255, percentile-rescaled with normalize='percentile'."""
    if normalize == 'percentile':
        low, high = np.percentile(image, (1.0, 99.8))
        return (np.clip((image.astype(np.float64) - low) / max(high - low, 1e-9), 0, 1) * 255).round().astype(np.uint8)
    if image.min() < 0 or image.max() > 255:
        raise ValueError(f'{path}: values {image.min()}..{image.max()} do not fit in 8 bits; pass --normalize '
                         'percentile to rescale')
    if not np.issubdtype(image.dtype, np.integer) and not np.array_equal(image, np.round(image)):
        # a float image in 0..1 cast to uint8 is black
        raise ValueError(f'{path}: {image.dtype} values {image.min():g}..{image.max():g} are not whole 8-bit '
                         'levels; pass --normalize percentile to rescale')
    return image.astype(np.uint8)


TURNS = {(1, 0): 0, (0, 1): 1, (-1, 0): 2, (0, -1): 3}  # a unit step's heading, clockwise in image coordinates


def pixel_edges(mask: np.ndarray) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """The sides of the mask's pixels that face the background, as unit steps between pixel corners (x, y), each
    with the pixel on its right: an object's outline runs clockwise on screen, a hole's the other way."""
    padded = np.pad(mask.astype(bool), 1)
    inside = padded[1:-1, 1:-1]
    steps: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for open_side, (a, b) in ((padded[:-2, 1:-1], ((0, 0), (1, 0))), (padded[1:-1, 2:], ((1, 0), (1, 1))),
                              (padded[2:, 1:-1], ((1, 1), (0, 1))), (padded[1:-1, :-2], ((0, 1), (0, 0)))):
        for y, x in zip(*np.nonzero(inside & ~open_side)):
            steps.setdefault((x + a[0], y + a[1]), []).append((x + b[0], y + b[1]))
    return steps


def polygons(mask: np.ndarray) -> list[list[float]]:
    """Outer outlines of a 0/1 mask as COCO polygons (x, y pairs) along its pixels' edges, so pycocotools
    rasterises them back to the mask (cv2's contours ran through the border pixels' centres, and the masks came
    back half a pixel smaller on every side: IoU 0.81 for a 10x10 square). Holes are filled, as before."""
    steps, outlines = pixel_edges(mask), []
    while steps:
        start = here = next(iter(steps))
        loop, heading = [], None
        while True:
            options = steps[here]
            # two pixels meeting at a corner: turn right, which keeps them in one outline (8-connected)
            step = options[0] if heading is None or len(options) == 1 else min(options, key=lambda p: (
                TURNS[(p[0] - here[0], p[1] - here[1])] - TURNS[heading] - 1) % 4)
            options.remove(step)
            if not options:
                del steps[here]
            new_heading = (step[0] - here[0], step[1] - here[1])
            if new_heading != heading:
                loop.append(here)  # a corner; points along a straight run are left out
            heading, here = new_heading, step
            if here == start:
                break
        xs, ys = np.array(loop, float).T
        if len(loop) >= 3 and np.sum(xs * np.roll(ys, -1) - np.roll(xs, -1) * ys) > 0:  # clockwise: an object
            outlines.append([float(v) for point in loop for v in point])
    return outlines


def annotations_of(labels: np.ndarray, image_id: int, first_id: int, fmt: str, min_area: int,
                   counts: dict[str, int]) -> list[dict]:
    """One COCO annotation per non-zero label value of ``labels`` (H, W) integer array."""
    anns = []
    for value in np.unique(labels):
        if value == 0:
            continue
        mask = np.asfortranarray((labels == value).astype(np.uint8))
        rle = mask_utils.encode(mask)
        area = int(mask_utils.area(rle))
        if area < max(min_area, 1):
            counts['objects under --min-area skipped'] += 1
            continue
        segmentation: object = {'size': list(rle['size']), 'counts': rle['counts'].decode('ascii')}
        if fmt == 'polygon':
            polys = polygons(mask)
            if polys:
                segmentation = polys
            else:
                counts['objects too thin for a polygon, written as RLE'] += 1
        anns.append(dict(id=first_id + len(anns), image_id=image_id, category_id=1, iscrowd=0, area=area,
                         bbox=[float(v) for v in mask_utils.toBbox(rle)], segmentation=segmentation))
    return anns


def convert(images: Sequence[str], labels: Sequence[str], out_json: str, image_dir: str | None = None,
            fmt: str = 'rle', category: str = 'object', crop: Sequence[int] | None = None, min_area: int = 0,
            normalize: str = 'none') -> dict:
    """Write the PNGs and the COCO json; returns the json dict. See the module docstring."""
    if len(images) != len(labels):
        raise ValueError(f'--images ({len(images)}) and --labels ({len(labels)}) must pair up one to one')
    out_dir = Path(out_json).resolve().parent
    image_dir = Path(image_dir).resolve() if image_dir else out_dir / 'images'
    inputs = {Path(p).resolve() for p in (*images, *labels)}
    outputs = [Path(out_json).resolve()] + [image_dir / f'{Path(out_json).stem}_{Path(p).stem}_{i}.png'
                                            for i, p in enumerate(images, start=1)]
    clash = [str(p) for p in outputs if p in inputs]
    if clash:  # the input was read, then replaced by the json (or a PNG) without a word
        raise ValueError(f'{clash[0]} is one of the inputs; give --out-json (and --image-dir) elsewhere')
    coco = dict(images=[], annotations=[], categories=[dict(id=1, name=category, supercategory=category)])
    counts = {'objects under --min-area skipped': 0, 'objects too thin for a polygon, written as RLE': 0}
    pngs = []  # every pair is read and checked before anything is written: a bad pair leaves no PNG behind
    for image_id, (img_path, lab_path) in enumerate(zip(images, labels), start=1):
        image, label = read_array(img_path, colours=True), read_array(lab_path)
        if label.ndim != 2 or not np.issubdtype(label.dtype, np.integer):
            raise ValueError(f'{lab_path}: expected a 2D integer label image; got {label.dtype} {label.shape}')
        if image.shape[:2] != label.shape:
            raise ValueError(f'{img_path} is {image.shape[:2]} but {lab_path} is {label.shape}: they must match')
        if crop is not None:
            x0, y0, x1, y1 = crop
            if not (0 <= x0 < x1 <= label.shape[1] and 0 <= y0 < y1 <= label.shape[0]):
                raise ValueError(f'--crop {list(crop)} is not inside {lab_path} of size (h, w) {label.shape}')
            image, label = image[y0:y1, x0:x1], label[y0:y1, x0:x1]
        name = f'{Path(out_json).stem}_{Path(img_path).stem}_{image_id}.png'  # unique per json and image
        pngs.append((name, to_uint8(image, normalize, img_path)))
        coco['images'].append(dict(id=image_id, file_name=os.path.relpath(image_dir / name, out_dir),
                                   height=int(label.shape[0]), width=int(label.shape[1])))
        coco['annotations'] += annotations_of(label, image_id, len(coco['annotations']) + 1, fmt, min_area, counts)
    image_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, image in pngs:
        with atomic_path(str(image_dir / name)) as tmp:  # unique temporaries: concurrent writers cannot collide
            Image.fromarray(image).save(tmp, format='PNG')
    with atomic_path(str(out_json)) as tmp, open(tmp, 'w') as f:
        json.dump(coco, f)
    noted = ', '.join(f'{n} {what}' for what, n in counts.items() if n)
    print(f'wrote {out_json}: {len(coco["images"])} images, {len(coco["annotations"])} objects'
          + (f' ({noted})' if noted else ''))
    return coco


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--images', nargs='+', required=True, help='intensity images (any PIL-readable format)')
    parser.add_argument('--labels', nargs='+', required=True, help='instance-label images, same order and size')
    parser.add_argument('--out-json', required=True)
    parser.add_argument('--image-dir', help='where the PNGs go (default: images/ beside the json)')
    parser.add_argument('--format', choices=('rle', 'polygon'), default='rle')
    parser.add_argument('--category', default='object', help='name of the single category (id 1)')
    parser.add_argument('--crop', nargs=4, type=int, metavar=('X0', 'Y0', 'X1', 'Y1'), help='keep this region')
    parser.add_argument('--min-area', type=int, default=0, help='skip objects with fewer pixels (after --crop)')
    parser.add_argument('--normalize', choices=('none', 'percentile'), default='none')
    args = parser.parse_args(argv)
    try:
        convert(args.images, args.labels, args.out_json, args.image_dir, args.format, args.category, args.crop,
                args.min_area, args.normalize)
    except (ValueError, OSError) as err:
        print(f'instance_to_coco.py: error: {err}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
