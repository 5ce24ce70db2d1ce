"""Draw detections on an image: translucent mask overlays, boxes and 'class score' labels, saved as PNG."""
from __future__ import annotations

import colorsys
import os
from typing import Sequence

import numpy as np
from mmengine.structures import BaseDataElement
from PIL import Image, ImageDraw

from ..engine.atomic import atomic_path
from ..transforms.loading import read_image


def palette(n: int) -> list[tuple[int, int, int]]:
    """``n`` well-separated RGB colours (golden-ratio hues), the same for the same index every time."""
    return [tuple(int(255 * c) for c in colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.85, 1.0)) for i in range(n)]


def to_rgb(image: np.ndarray) -> np.ndarray:
    """HxW, HxWx1 or HxWx3 array (any dtype) -> HxWx3 uint8 (grey repeated; non-uint8 rescaled to 0..255)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.dtype != np.uint8:
        low, high = float(image.min()), float(image.max())
        image = ((image - low) / max(high - low, 1e-9) * 255).astype(np.uint8)
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def binary_mask(mask: np.ndarray) -> np.ndarray:
    """A bool mask: probabilities (floats, as ``mask_thr_binary=None`` keeps them) cut at 0.5, as CocoMetric cuts
    them; other masks are nonzero where the object is."""
    mask = np.asarray(mask)
    return mask >= 0.5 if np.issubdtype(mask.dtype, np.floating) else mask.astype(bool)


def draw_instances(image: np.ndarray, bboxes: np.ndarray, labels: Sequence[int], scores: Sequence[float] | None = None,
                   masks: np.ndarray | None = None, classes: Sequence[str] | None = None,
                   alpha: float = 0.45) -> np.ndarray:
    """HxWx3 uint8 picture of the instances: each gets its own colour for mask (alpha blend) and box outline.

    Args:
        image: the image (see ``to_rgb``). bboxes: (K, 4) xyxy pixels. labels: (K,). scores: (K,) or None.
        masks: (K, H, W) bool/0-1 or None. classes: names for the labels (else the label number).
    """
    canvas = to_rgb(image).astype(np.float32)
    colours = palette(len(bboxes))
    if masks is not None:
        for mask, colour in zip(masks, colours):
            m = binary_mask(mask)
            canvas[m] = canvas[m] * (1 - alpha) + np.array(colour, np.float32) * alpha
    picture = Image.fromarray(canvas.clip(0, 255).astype(np.uint8))
    pen = ImageDraw.Draw(picture)
    for i, (box, label) in enumerate(zip(np.asarray(bboxes).reshape(-1, 4), labels)):
        x1, y1, x2, y2 = (float(v) for v in box)
        pen.rectangle([x1, y1, x2, y2], outline=colours[i], width=1)
        name = classes[int(label)] if classes is not None and 0 <= int(label) < len(classes) else str(int(label))
        text = name if scores is None else f'{name} {float(scores[i]):.2f}'
        pen.text((x1 + 1, max(y1 - 11, 0)), text, fill=colours[i])
    return np.asarray(picture)


def save_png(picture: np.ndarray, path: str | os.PathLike) -> str:
    """Write ``picture`` (HxWx3 uint8) to ``path`` atomically (temp file + rename), in the format its extension
    names (PNG, JPEG, ... as PIL knows them; PNG bytes went into '.jpg' files); returns the path."""
    path = os.fspath(path)
    image_format = Image.registered_extensions().get(os.path.splitext(path)[1].lower())
    if image_format is None or image_format not in Image.SAVE:
        raise ValueError(f'{path}: give a picture file name ending in .png or .jpg (or another extension PIL '
                         f'writes)')
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_path(path) as tmp:
        Image.fromarray(picture).save(tmp, format=image_format)
    return path


def draw_det_sample(image: np.ndarray | str, sample: BaseDataElement, path: str | os.PathLike,
                    classes: Sequence[str] | None = None, score_thr: float = 0.3) -> str:
    """Draw ``sample.pred_instances`` with score >= ``score_thr`` on ``image`` (array or file) and save a PNG."""
    if isinstance(image, (str, os.PathLike)):  # as the model read it: EXIF orientation applied, 16-bit scaled
        image = read_image(str(image), 'color')
    pred = sample.pred_instances
    keep = (pred.scores >= score_thr).cpu().numpy()
    masks = pred.masks.cpu().numpy()[keep] if 'masks' in pred else None
    picture = draw_instances(image, pred.bboxes.cpu().numpy()[keep], pred.labels.cpu().numpy()[keep],
                             pred.scores.cpu().numpy()[keep], masks, classes)
    return save_png(picture, path)
