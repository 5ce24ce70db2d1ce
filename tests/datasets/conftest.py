"""Fixtures: tiny image trees written with PIL in a temp dir."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _write_png(path: Path, value: int = 0, size: tuple[int, int] = (4, 4)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(size, value, dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def write_png():
    """``write_png(path, value)``: a 4x4 grey PNG of constant ``value`` (tests tell files apart by it)."""
    return _write_png


@pytest.fixture
def image_tree(tmp_path: Path):
    """``image_tree({class: count})`` writes root/<class>/<i>.png with pixel value 10 * sorted class index + i."""
    def make(layout: dict[str, int], root: Path | None = None) -> Path:
        root = root or tmp_path / 'root'
        root.mkdir(parents=True, exist_ok=True)
        for c, (name, count) in enumerate(sorted(layout.items())):
            (root / name).mkdir(exist_ok=True)
            for i in range(count):
                _write_png(root / name / f'{i}.png', 10 * c + i)
        return root
    return make


@pytest.fixture
def corrupt_bytes(tmp_path: Path):
    """Byte strings that are not decodable images: text, and a PNG cut in half."""
    good = _write_png(tmp_path / 'whole.png', 7, size=(32, 32)).read_bytes()
    return {'text': b'this is not an image', 'truncated': good[:len(good) // 2]}
