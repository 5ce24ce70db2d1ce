"""insightface's verification ``.bin`` files (lfw.bin, cfp_fp.bin, agedb_30.bin ...), read without trusting pickle.

A .bin is ``pickle.dump((bins, issame_list))``: ``bins`` a list of 2N encoded images (pairs side by side: 2k and
2k+1 form pair k), ``issame_list`` N booleans. insightface unpickles it with plain ``pickle.load``, which runs any
code a crafted file names. Here a restricted unpickler admits only the builtin containers and, for files written
by numpy-based tools, numpy's bool scalars and arrays; a .bin naming anything else is refused before it runs, as
the project's checkpoints are.
"""
from __future__ import annotations

import os
import pickle
from typing import Sequence

import numpy as np

from ..restricted_pickle import NUMPY_ARRAYS, load_restricted

# What a .bin's pickle may construct: (module, name). Python 2 pickles name __builtin__, protocol 0-2 files use
# _codecs.encode for bytes; numpy bools/arrays appear when issame_list was a numpy array.
ALLOWED = NUMPY_ARRAYS | {
    ('builtins', 'bytes'), ('builtins', 'bytearray'), ('builtins', 'bool'), ('builtins', 'list'),
    ('builtins', 'tuple'), ('__builtin__', 'bytes'), ('__builtin__', 'bytearray'), ('__builtin__', 'bool'),
    ('_codecs', 'encode'), ('numpy', 'bool_'),
}


def read_bin(path: str) -> tuple[list[bytes], list[bool]]:
    """(images, issame) of an insightface .bin: 2N encoded images and N flags; errors name the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'verification .bin not found: {path}')
    content = load_restricted(path, ALLOWED, 'an insightface .bin pickle',
                              'an insightface .bin holds only image bytes and same/different flags', encoding='bytes')
    if not isinstance(content, (tuple, list)) or len(content) != 2:
        raise ValueError(f'{path}: expected a pickled (bins, issame_list) pair; got {type(content).__name__}')
    bins, issame = content
    if isinstance(bins, (list, tuple)):
        wrong = next((i for i, b in enumerate(bins) if not isinstance(b, (bytes, bytearray))), None)
        if wrong is not None:
            raise ValueError(f'{path}: image {wrong} is a {type(bins[wrong]).__name__}, not encoded image bytes')
    if isinstance(issame, (list, tuple, np.ndarray)):
        values = np.asarray(issame, dtype=object).ravel()
        wrong = next((i for i, f in enumerate(values) if not isinstance(f, (bool, np.bool_)) and not (
            isinstance(f, (int, np.integer)) and f in (0, 1))), None)  # 0/1 work in insightface's code too
        if wrong is not None:
            raise ValueError(f'{path}: same/different flag {wrong} is {values[wrong]!r}, not a boolean (or 0/1)')
    images = [bytes(b) for b in bins] if isinstance(bins, (list, tuple)) else None
    flags = [bool(s) for s in np.asarray(issame).ravel()] if isinstance(issame, (list, tuple, np.ndarray)) else None
    if images is None or flags is None or len(images) != 2 * len(flags) or not flags:
        raise ValueError(f'{path}: expected 2N image byte strings and N same/different flags; got '
                         f'{len(bins) if isinstance(bins, (list, tuple)) else type(bins).__name__} images and '
                         f'{len(flags) if flags is not None else type(issame).__name__} flags')
    return images, flags


def write_bin(path: str, images: Sequence[bytes], issame: Sequence[bool]) -> str:
    """Write ``(images, issame)`` as insightface does (pickle, highest protocol), atomically; returns ``path``."""
    from ...engine.atomic import atomic_path

    if len(images) != 2 * len(issame) or not issame:
        raise ValueError(f'write_bin: need 2N images for N pairs; got {len(images)} images, {len(issame)} flags')
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:
        pickle.dump(([bytes(b) for b in images], [bool(s) for s in issame]), f, protocol=pickle.HIGHEST_PROTOCOL)
    return path
