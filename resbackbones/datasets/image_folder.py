"""ImageNet-style folders: ``data_root/<class_name>/<image>``, one folder per class."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Sequence

from mmengine.logging import print_log

from ..registry import DATASETS
from .base import ClassificationDataset, check_classes, classes_argument

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')  # torchvision's
NAME = 'ImageFolderDataset'


def _visible(path: Path) -> bool:
    return not path.name.startswith('.')


def _extensions(extensions: Sequence[str]) -> tuple[str, ...]:
    if isinstance(extensions, str) or not extensions or not all(isinstance(e, str) and e for e in extensions):
        raise ValueError(f"{NAME}: extensions must be a non-empty list like ['.png', '.jpg']; got {extensions!r}")
    return tuple(e.lower() if e.startswith('.') else f'.{e.lower()}' for e in extensions)


def find_classes(root: Path, classes: Sequence[str] | None) -> tuple[str, ...]:
    """Class names: the sub-folders of ``root`` sorted, or exactly ``classes`` (every folder must be listed; a listed
    class without a folder keeps its label and has no images: a split that lacks a class, whose labels would
    otherwise shift)."""
    if not root.exists():  # the fetch hint only where it helps: a custom set's missing folder is the user's
        hint = ' (for the digits demo run: python tools/data/fetch_data.py digits)' if 'digits' in str(root) else ''
        raise FileNotFoundError(f'{NAME}: data_root {root} does not exist; expected data_root/<class_name>/<image>'
                                f'{hint}')
    if not root.is_dir():
        raise ValueError(f'{NAME}: data_root {root} is a file; expected a folder holding one folder per class')
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and _visible(p))
    if not folders:
        raise ValueError(f'{NAME}: data_root {root} has no class folders; expected data_root/<class_name>/<image>')
    given = check_classes(classes, NAME)
    if given is None:
        return tuple(folders)
    missing = [c for c in given if c not in folders]
    if len(missing) == len(given):
        raise ValueError(f'{NAME}: none of classes {list(given)} has a folder in {root} (folders there: {folders})')
    if missing:
        print_log(f'{NAME}: classes {missing} have no folder in {root}: they keep their labels and have no images '
                  f'here', logger='current', level=logging.WARNING)
    extra = [f for f in folders if f not in given]
    if extra:
        raise ValueError(f'{NAME}: folder(s) {extra} in {root} are not in classes {list(given)}; add them to '
                         f'classes or move them out of data_root')
    return given


@DATASETS.register_module()
class ImageFolderDataset(ClassificationDataset):
    """Images in ``data_root/<class_name>/<image>``; label i is the i-th class.

    Args:
        data_root: the folder holding one sub-folder per class (hidden entries are ignored).
        pipeline: transform configs or callables, e.g. LoadImageFromFile, Resize, PackInputs.
        classes: class names in label order; default: the sub-folder names sorted alphabetically ('10' < '2').
            When given (here or as ``metainfo=dict(classes=...)``), every folder must be listed; a listed class
            without a folder keeps its label and has no images (give the training classes to a split that lacks
            one: sorted folders would shift every later label).
        extensions: image file suffixes (case-insensitive); other files in class folders are ignored.
        skip_corrupt: skip undecodable images instead of raising (see ClassificationDataset).
        lazy_init: defer scanning the files to ``full_init()`` (classes are still read at once).
        kwargs: other mmengine BaseDataset options (test_mode, indices, serialize_data).

    Images must sit directly in the class folders: a class folder holding only sub-folders is an error, so
    pointing data_root one level too high (at a folder of train/val splits) cannot turn split names into labels.
    """

    def __init__(self, data_root: str, pipeline: Sequence[dict | Callable] = (), classes: Sequence[str] | None = None,
                 extensions: Sequence[str] = IMG_EXTENSIONS, skip_corrupt: bool = False, lazy_init: bool = False,
                 **kwargs: Any):
        self.extensions = _extensions(extensions)
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        names = find_classes(Path(data_root), classes_argument(classes, metainfo, NAME))
        metainfo['classes'] = names
        super().__init__(data_root=str(data_root), pipeline=pipeline, skip_corrupt=skip_corrupt,
                         lazy_init=lazy_init, metainfo=metainfo, **kwargs)

    def load_data_list(self) -> list[dict]:
        """One ``dict(img_path, gt_label)`` per image, classes in label order, files sorted by name."""
        root = Path(self.data_root)
        data_list = []
        for label, name in enumerate(self.metainfo['classes']):
            folder = root / name
            if not folder.is_dir():  # a listed class this split lacks (find_classes warned)
                continue
            entries = sorted(p for p in folder.iterdir() if _visible(p))
            # a dangling link is listed, so loading names it (is_file() is False for it: it was left out silently)
            files = [p for p in entries if (p.is_file() or (p.is_symlink() and not p.exists()))
                     and p.suffix.lower() in self.extensions]
            if not files:
                subdirs = [p.name for p in entries if p.is_dir()]
                hint = (f'; it holds folders {subdirs[:5]}: is data_root one level too high (try '
                        f'data_root={folder})?' if subdirs else '')
                raise ValueError(f'{NAME}: class folder {folder} has no images with extensions '
                                 f'{list(self.extensions)}{hint}')
            data_list.extend(dict(img_path=str(p), gt_label=label) for p in files)
            nested = [p for d in entries if d.is_dir() for p in d.rglob('*')
                      if p.is_file() and p.suffix.lower() in self.extensions]
            if nested:  # torchvision's ImageFolder reads them; here they would be left out without a word
                print_log(f'{NAME}: {len(nested)} images in sub-folders of class folder {folder} (first: '
                          f'{nested[0]}) are not read: images must sit directly in their class folder',
                          logger='current', level=logging.WARNING)
        return data_list
