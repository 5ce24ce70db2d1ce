"""Images handed to the inference APIs as arrays, brought to what the model's first layer reads."""
from __future__ import annotations

import os

import numpy as np

from ..transforms.seg_loading import to_channels


def array_channels(img, channels: int, where: str) -> np.ndarray:
    """An image array as HxWx``channels`` uint8, as a file of it would be read: grey repeated to RGB, RGB greyed by
    luminance (rounded), alpha dropped. ValueError naming ``where`` (e.g. 'embed_faces: image 3') otherwise: a grey
    array reached a 3-value normaliser whole (a bare assertion), a float one was taken as pixels."""
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim not in (2, 3) or img.size == 0 or \
            (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        got = f'{img.dtype} array of shape {img.shape}' if isinstance(img, np.ndarray) else type(img).__name__
        raise ValueError(f'{where} must be a path or a non-empty uint8 array HxW, HxWx1, HxWx3 (RGB) or HxWx4; '
                         f'got {got}')
    return to_channels(img, channels, where)


def is_path(img) -> bool:
    return isinstance(img, (str, os.PathLike))
