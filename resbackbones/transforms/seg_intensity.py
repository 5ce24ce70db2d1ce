"""Intensity normalisation for microscopy, MRI and CT: one function shared by 2D images and NIfTI volumes.

Medical intensities are not 0-255: 16-bit microscopy, arbitrary MRI units, Hounsfield units in CT. Each mode
maps them to float32 around [0, 1] (or zero mean, unit variance), so the network sees comparable inputs.
"""
from __future__ import annotations

from typing import Any

from mmcv.transforms import BaseTransform
import numpy as np

from ..registry import TRANSFORMS

MODES = ('percentile', 'minmax', 'zscore', 'window', 'scale')


def check_normalize(mode: str, low: float = 1.0, high: float = 99.8, level: float | None = None,
                    width: float | None = None, scale: float | None = None) -> None:
    """ValueError naming the argument when a normalisation setting is invalid."""
    if mode not in MODES:
        raise ValueError(f'normalize: mode must be one of {list(MODES)}; got {mode!r}')
    if mode == 'percentile' and not 0 <= low < high <= 100:
        raise ValueError(f'normalize: percentile needs 0 <= low < high <= 100; got low={low}, high={high}')
    if mode == 'window' and (level is None or width is None or width <= 0):
        raise ValueError(f"normalize: mode='window' needs level and a positive width (e.g. CT soft tissue: "
                         f"level=40, width=400); got level={level}, width={width}")
    if mode == 'scale' and scale is not None and scale <= 0:
        raise ValueError(f'normalize: scale must be > 0; got {scale}')


NORMALIZE_KEYS = ('mode', 'low', 'high', 'level', 'width', 'scale', 'clip')


def check_normalize_settings(settings: Any, owner: str) -> dict:
    """``settings`` (a dataset's ``normalize`` dict) checked: its keys, then its values (``check_normalize``);
    ValueError naming ``owner`` (mmengine-style TypeErrors named neither the dict nor the key)."""
    if not isinstance(settings, dict) or 'mode' not in settings:
        raise ValueError(f"{owner}: normalize must be a dict with 'mode' (one of {list(MODES)}), e.g. "
                         f"dict(mode='percentile', low=0.5, high=99.5); got {settings!r}")
    unknown = sorted(set(settings) - set(NORMALIZE_KEYS))
    if unknown:
        raise ValueError(f'{owner}: normalize has unknown keys {unknown}; known: {list(NORMALIZE_KEYS)}')
    check_normalize(**{k: v for k, v in settings.items() if k != 'clip'})
    return dict(settings)


def normalize_intensity(array: np.ndarray, mode: str = 'percentile', low: float = 1.0, high: float = 99.8,
                        level: float | None = None, width: float | None = None, scale: float | None = None,
                        clip: bool = False) -> np.ndarray:
    """float32 copy of ``array`` normalised over all its values (per image, or per volume).

    Modes:
        'percentile': (x - p_low) / (p_high - p_low) (robust to hot pixels; stardist/CSBDeep's default).
        'minmax': (x - min) / (max - min). 'zscore': (x - mean) / std.
        'window': CT-style window, (x - (level - width/2)) / width, clipped to [0, 1].
        'scale': x / scale, scale defaulting to the integer dtype's maximum (255 for uint8, 65535 for uint16).
    ``clip`` clips the result to [0, 1] (always on for 'window'). Constant inputs map to zeros; an input whose
    percentiles coincide but which is not constant (a few bright spots) is scaled by its min and max instead.
    """
    check_normalize(mode, low, high, level, width, scale)
    x = array.astype(np.float32)
    if mode == 'scale':
        if scale is None:
            if not np.issubdtype(array.dtype, np.integer):
                raise ValueError(f"normalize: mode='scale' on {array.dtype} data needs an explicit scale")
            scale = float(np.iinfo(array.dtype).max)
        offset, span = 0.0, float(scale)
    elif mode == 'window':
        offset, span = level - width / 2, float(width)
        clip = True
    elif mode == 'zscore':
        offset, span = float(x.mean()), float(x.std())
    else:
        lo, hi = (np.percentile(x, (low, high)) if mode == 'percentile' else (x.min(), x.max()))
        if hi <= lo:  # a sparse image (a few bright spots on a dark field) has equal percentiles: min-max instead,
            lo, hi = x.min(), x.max()  # or the whole image, its objects included, came out zero
        offset, span = float(lo), float(hi - lo)
    if span <= 0:
        return np.zeros_like(x)
    x = (x - offset) / span
    return np.clip(x, 0, 1, out=x) if clip else x


@TRANSFORMS.register_module()
class NormalizeIntensity(BaseTransform):
    """Normalise ``results['img']`` to float32 with ``normalize_intensity`` (all channels together).

    Args: mode, low, high, level, width, scale, clip: see ``normalize_intensity``.
    """

    def __init__(self, mode: str = 'percentile', low: float = 1.0, high: float = 99.8, level: float | None = None,
                 width: float | None = None, scale: float | None = None, clip: bool = False):
        check_normalize(mode, low, high, level, width, scale)
        self.kwargs = dict(mode=mode, low=low, high=high, level=level, width=width, scale=scale, clip=clip)

    def transform(self, results: dict) -> dict:
        if not isinstance(results.get('img'), np.ndarray):
            raise ValueError(f"NormalizeIntensity needs results['img'] (put LoadImageAndMask first) for "
                             f"{results.get('img_path', 'a sample')}")
        results['img'] = normalize_intensity(results['img'], **self.kwargs)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.kwargs})'
