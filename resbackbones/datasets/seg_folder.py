"""Paired image/mask folders for 2D segmentation: ``data_root/<img_dir>/<name>.<ext>`` with
``data_root/<mask_dir>/<name><mask_suffix>.<ext>`` label images (PNG, TIFF, JPEG images; 8/16-bit)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from mmengine.dataset import BaseDataset

from ..registry import DATASETS, TRANSFORMS
from .image_folder import IMG_EXTENSIONS

NAME = 'SegFolderDataset'


def check_seg_classes(classes: Sequence[str], owner: str) -> tuple[str, ...]:
    """Class names in label order (background first), at least two, unique."""
    if isinstance(classes, str) or not isinstance(classes, Sequence) or len(classes) < 2:
        raise ValueError(f"{owner}: classes must name every label, background first, e.g. "
                         f"('background', 'nucleus'); got {classes!r}")
    if len(set(classes)) != len(classes) or not all(isinstance(c, str) and c for c in classes):
        raise ValueError(f'{owner}: classes must be unique non-empty strings; got {classes!r}')
    return tuple(classes)


def build_pipeline(pipeline: Sequence[dict | Callable]) -> list[Callable]:
    """Transforms built from this package's TRANSFORMS (no default scope needed)."""
    return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]


@DATASETS.register_module()
class SegFolderDataset(BaseDataset):
    """Images and their label masks, paired by file name.

    Args:
        data_root: the folder holding ``img_dir`` and ``mask_dir``.
        classes: class names, label i -> classes[i], background (0) first; masks with other labels are an error.
        img_dir / mask_dir: sub-folders of images and masks.
        mask_suffix: added to the image's name stem to find its mask (e.g. '_mask'); any image extension.
        extensions: file suffixes counted as images (case-insensitive).
        binarize: every non-zero mask label becomes 1 (instance label images -> foreground/background).
        allow_ignore_only: accept masks whose only labels are 0 and ``ignore_index`` (background and void). Off, such
            a mask is an error naming the file: it is far more often a 0/255 mask read without ``binarize``.
        ignore_index: mask label that is not counted (e.g. unlabelled pixels).
        pipeline: transform configs, e.g. LoadImageAndMask, NormalizeIntensity, RandomPatch, SegAlbu, PackSegInputs.
        kwargs: other mmengine BaseDataset options (test_mode, indices, lazy_init).

    Every image must have exactly one mask; a missing or ambiguous one is an error naming both paths.
    """

    def __init__(self, data_root: str, classes: Sequence[str], img_dir: str = 'images', mask_dir: str = 'masks',
                 mask_suffix: str = '', extensions: Sequence[str] = IMG_EXTENSIONS, binarize: bool = False,
                 allow_ignore_only: bool = False,
                 ignore_index: int = 255, pipeline: Sequence[dict | Callable] = (), **kwargs: Any):
        self.classes = check_seg_classes(classes, NAME)
        self.img_dir, self.mask_dir, self.mask_suffix = img_dir, mask_dir, mask_suffix
        self.extensions = tuple(e.lower() if e.startswith('.') else f'.{e.lower()}' for e in extensions)
        self.binarize, self.ignore_index, self.allow_ignore_only = bool(binarize), ignore_index, bool(allow_ignore_only)
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=self.classes)
        super().__init__(data_root=str(data_root), pipeline=build_pipeline(pipeline), metainfo=metainfo, **kwargs)

    def _folder(self, name: str, what: str) -> Path:
        folder = Path(self.data_root) / name
        if not folder.is_dir():
            raise FileNotFoundError(f'{NAME}: {what} folder {folder} does not exist; expected '
                                    f'{self.data_root}/{{{self.img_dir},{self.mask_dir}}}/<name>.png')
        return folder

    def _images(self, folder: Path) -> list[Path]:
        return sorted(p for p in folder.iterdir()
                      if p.is_file() and not p.name.startswith('.') and p.suffix.lower() in self.extensions)

    def load_data_list(self) -> list[dict]:
        """One dict per image: img_path, seg_map_path and the label settings the loader checks against."""
        image_folder = self._folder(self.img_dir, 'image')
        images = self._images(image_folder)
        if image_folder.resolve() == self._folder(self.mask_dir, 'mask').resolve():
            if not self.mask_suffix:  # every image, masks included, was its own mask
                raise ValueError(f'{NAME}: img_dir and mask_dir are the same folder {image_folder}, so every image '
                                 f"would be paired with itself; give mask_suffix (e.g. '_mask' for foo_mask.png "
                                 f'beside foo.png) or keep the masks in a folder of their own')
            images = [p for p in images if not p.stem.endswith(self.mask_suffix)]  # 'foo.png' beside 'foo_mask.png'
        stems: dict[str, list[str]] = {}
        for path in images:
            stems.setdefault(path.stem, []).append(path.name)
        shared = [names for names in stems.values() if len(names) > 1]
        if shared:  # one mask would label both, and their overlays would share a name
            raise ValueError(f'{NAME}: images {shared[0]} in {Path(self.data_root) / self.img_dir} share a name '
                             f'before the extension, so one mask would be paired with both; rename one')
        if not images:
            raise ValueError(f'{NAME}: no images with extensions {list(self.extensions)} in '
                             f'{Path(self.data_root) / self.img_dir}')
        masks: dict[str, list[Path]] = {}
        for path in self._images(self._folder(self.mask_dir, 'mask')):
            masks.setdefault(path.stem, []).append(path)
        data_list = []
        for img in images:
            found = masks.get(img.stem + self.mask_suffix, [])
            expected = Path(self.data_root) / self.mask_dir / f'{img.stem}{self.mask_suffix}.<ext>'
            if not found:
                raise FileNotFoundError(f'{NAME}: image {img} has no mask; expected {expected} with one of '
                                        f'{list(self.extensions)}')
            if len(found) > 1:
                raise ValueError(f'{NAME}: image {img} has several masks {[str(p) for p in found]}; keep one')
            data_list.append(dict(img_path=str(img), seg_map_path=str(found[0]), num_classes=len(self.classes),
                                  ignore_index=self.ignore_index, binarize=self.binarize,
                                  allow_ignore_only=self.allow_ignore_only))
        return data_list
