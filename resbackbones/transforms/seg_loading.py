"""Load an image and its label mask for segmentation, keeping the bit depth (8/16-bit PNG, TIFF, JPEG)."""
from __future__ import annotations

import os

import cv2
from mmcv.transforms import BaseTransform
import numpy as np
from PIL import Image, ImageOps

from ..registry import TRANSFORMS
from .loading import CorruptImageError

CHANNEL_CHOICES = (None, 1, 3)


def read_array(path: str, palette_colours: bool = False) -> np.ndarray:
    """The first frame of an image file as an array of its own dtype, EXIF orientation applied: HxW (grey,
    8/16/32-bit, palette indices) or HxWxC. ``palette_colours`` gives a palette image's colours instead of its
    indices: what an input image shows (a mask's indices are its labels, VOC-style). FileNotFoundError /
    CorruptImageError name the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'file not found: {path}')
    try:
        with Image.open(path) as img:
            if img.mode in ('RGB', 'RGBA', 'LA') and ';16' in raw_mode(img):  # Pillow keeps the high byte only
                return orient(read_deep_colour(path), img.getexif().get(0x0112, 1))
            signed16 = img.mode == 'I' and raw_mode(img) in ('I;16S', 'I;16BS')  # Pillow widens them to int32
            img.load()
            if img.getexif().get(0x0112, 1) != 1:  # as shown: masks are drawn on the picture a viewer displays
                img = ImageOps.exif_transpose(img)
            if img.mode in ('I;16', 'I;16L', 'I;16B', 'I;16N'):
                return np.asarray(img).astype(np.uint16)
            if signed16:  # kept int16, as the docs say: as int32, mode='scale' divided by 2**31 - 1
                return np.asarray(img).astype(np.int16)
            if img.mode == '1' and not palette_colours:  # a 1-bit mask's labels are 0 and 1 (Pillow's 'L': 0, 255)
                return np.asarray(img).astype(np.uint8)
            if img.mode in ('1', 'CMYK', 'YCbCr', 'LAB', 'HSV') or (palette_colours and img.mode in ('P', 'PA')):
                img = img.convert('L' if img.mode == '1' else 'RGB')
            return np.asarray(img).copy()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise CorruptImageError(path, f'{type(err).__name__}: {err}') from err


def raw_mode(img: Image.Image) -> str:
    """The pixel layout of an opened, not yet loaded, file as its decoder reads it ('RGB;16B' for 48-bit PNG)."""
    if not img.tile:
        return ''
    args = img.tile[0].args
    return args if isinstance(args, str) else str(args[0]) if args else ''


def read_deep_colour(path: str) -> np.ndarray:
    """A 16-bit-per-channel colour file (RGB, RGBA, grey + alpha) as HxWxC uint16, read by OpenCV."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)  # unchanged: no EXIF rotation, BGR(A) order
    if img is None or img.dtype != np.uint16:
        raise CorruptImageError(path, 'a 16-bit colour image that OpenCV cannot read as 16-bit')
    if img.ndim == 3 and img.shape[2] in (3, 4):
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB if img.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
    return img


# EXIF orientation -> the numpy steps of Pillow's exif_transpose (5, 7: transposes; 6, 8: quarter turns)
ORIENTATIONS = {
    2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1], 5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1), 7: lambda a: a.swapaxes(0, 1)[::-1, ::-1], 8: lambda a: np.rot90(a, 1),
}


def orient(img: np.ndarray, orientation: int) -> np.ndarray:
    """``img`` as a viewer shows a file with this EXIF orientation (1: as stored)."""
    return np.ascontiguousarray(ORIENTATIONS[orientation](img)) if orientation in ORIENTATIONS else img


def to_channels(img: np.ndarray, channels: int | None, path: str) -> np.ndarray:
    """HxWxC with C = ``channels`` (None keeps the file's): RGB -> grey by luminance, grey -> RGB by repeating."""
    img = img[..., None] if img.ndim == 2 else img
    if img.shape[2] in (2, 4):  # grey + alpha (LA), RGBA: drop alpha
        img = img[..., :img.shape[2] - 1]
    if channels is None or img.shape[2] == channels:
        return img
    if channels == 1 and img.shape[2] == 3:
        if np.issubdtype(img.dtype, np.integer):  # Pillow's convert('L') exactly: its 16-bit fixed-point weights,
            # rounded (truncation made half of all pixels one level darker; float weights moved 1 in 2000 by one)
            rgb = img.astype(np.int64)
            grey = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16
            return grey[..., None].astype(img.dtype)
        return img.astype(np.float32) @ np.array([[0.299], [0.587], [0.114]], dtype=np.float32)
    if channels == 3 and img.shape[2] == 1:
        return np.repeat(img, 3, axis=2)
    raise ValueError(f'{path}: cannot turn a {img.shape[2]}-channel image into {channels} channels')


def refuse_only_ignore(labels: np.ndarray, path: str, ignore_index: int, fix: str) -> None:
    """ValueError naming the file when its labels are ignore_index and 0 alone: a 0/255 binary mask read with the
    default ignore_index=255 would otherwise lose all its foreground without a word."""
    if ignore_index != 0 and (labels == ignore_index).any() and not ((labels != 0) & (labels != ignore_index)).any():
        raise ValueError(f'{path}: its only non-zero value is {ignore_index}, which is ignore_index, so every '
                         f'labelled pixel would be ignored; {fix}, or choose another ignore_index')


def check_mask(mask: np.ndarray, path: str, num_classes: int | None, ignore_index: int, binarize: bool,
               allow_ignore_only: bool = False) -> np.ndarray:
    """A mask as an HxW int64 label map; ValueError names the file when it is not one or labels are out of range.

    ``binarize`` turns every non-zero label into 1, 255 included (instance label images and 0/255 masks ->
    foreground): the mask then marks no pixel ignored.
    """
    if mask.ndim == 3 and mask.shape[2] in (3, 4) and (mask[..., :3] == mask[..., :1]).all():
        mask = mask[..., 0]  # grey stored as RGB
    if mask.ndim != 2:
        raise ValueError(f'{path}: a mask must be a single-channel label image (HxW, one integer per class); '
                         f'got shape {mask.shape}')
    if not np.issubdtype(mask.dtype, np.integer):
        if not np.all(np.isfinite(mask)) or not np.all(mask == np.round(mask)):
            raise ValueError(f'{path}: mask values must be whole numbers (class labels); got {mask.dtype} values '
                             f'such as {mask[mask != np.round(mask)][:3]}')
    labels = mask.astype(np.int64)
    if binarize:
        labels = (labels != 0).astype(np.int64)
    if not allow_ignore_only:
        refuse_only_ignore(labels, path, ignore_index, 'to count those pixels as foreground use binarize=True (or, '
                           'for masks that really hold only background and void, allow_ignore_only=True)')
    if num_classes is not None:
        bad = np.unique(labels[((labels < 0) | (labels >= num_classes)) & (labels != ignore_index)])
        if bad.size:
            raise ValueError(f'{path}: mask values {bad[:10].tolist()} are outside 0..{num_classes - 1} '
                             f'(num_classes={num_classes}, ignore_index={ignore_index}); instance label images '
                             f'need binarize=True')
    return labels


@TRANSFORMS.register_module()
class LoadImageAndMask(BaseTransform):
    """Read ``img_path`` into ``img`` (HxWxC, file dtype) and ``seg_map_path`` into ``gt_seg_map`` (HxW int64).

    Checks that the mask matches the image size and holds labels in [0, num_classes) (or ignore_index), where
    ``num_classes``, ``ignore_index`` and ``binarize`` come from the sample (the dataset puts them there).
    A sample without ``seg_map_path`` loads the image only (inference).

    Args:
        channels: None keeps the file's channels; 1 converts RGB to grey; 3 repeats grey.
    """

    def __init__(self, channels: int | None = None):
        if channels not in CHANNEL_CHOICES:
            raise ValueError(f'LoadImageAndMask: channels must be one of {list(CHANNEL_CHOICES)}; got {channels!r}')
        self.channels = channels
        self.first_read: tuple[int, str] | None = None  # channels=None: (channels, path) of the first image read

    def check_same_channels(self, img: np.ndarray, path: str) -> None:
        """With ``channels=None``, ValueError naming both files when this image's channel count differs from the
        first one read: a model takes one count, and the batch stack failed later naming no file."""
        if self.channels is not None:
            return
        if self.first_read is None:
            self.first_read = (img.shape[2], path)
        elif img.shape[2] != self.first_read[0]:
            raise ValueError(f'{path}: {img.shape[2]} channel(s), but {self.first_read[1]} had {self.first_read[0]}; '
                             'with LoadImageAndMask(channels=None) every image must have the same count: set '
                             'channels=1 (grey) or 3 (RGB) to convert them')

    def transform(self, results: dict) -> dict:
        if 'img_path' not in results:
            raise ValueError(f"LoadImageAndMask needs 'img_path' in the sample; got keys {sorted(results)}")
        path = results['img_path']
        img = to_channels(read_array(path, palette_colours=True), self.channels, path)
        self.check_same_channels(img, path)
        if np.issubdtype(img.dtype, np.floating) and not np.isfinite(img).all():
            raise ValueError(f'{path}: {int((~np.isfinite(img)).sum())} NaN/inf pixels; repair the image first')
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        mask_path = results.get('seg_map_path')
        if mask_path is not None:
            mask = check_mask(read_array(mask_path), mask_path, results.get('num_classes'),
                              results.get('ignore_index', 255), results.get('binarize', False),
                              results.get('allow_ignore_only', False))
            if mask.shape != img.shape[:2]:
                raise ValueError(f'mask {mask_path} is {mask.shape[0]}x{mask.shape[1]} but image {path} is '
                                 f'{img.shape[0]}x{img.shape[1]} (HxW); they must match pixel for pixel')
            results['gt_seg_map'] = mask
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(channels={self.channels!r})'
