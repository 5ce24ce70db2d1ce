"""Face identity folders: ``data_root/<identity>/<image>``, one folder per identity (optionally a chosen subset)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from ...registry import DATASETS
from ..base import ClassificationDataset, check_classes
from ..image_folder import IMG_EXTENSIONS

NAME = 'FaceFolderDataset'


@DATASETS.register_module()
class FaceFolderDataset(ClassificationDataset):
    """Aligned face crops in ``data_root/<identity>/<image>``; label i is the i-th identity.

    Args:
        data_root: folder of identity folders (hidden entries ignored).
        identities: the identity folders to use, in label order (default: all, sorted). Unlike
            ImageFolderDataset, other folders may stay in data_root: an open-set split trains on some identities
            and verifies on the rest from the same folder.
        pipeline, skip_corrupt, kwargs: as ClassificationDataset / mmengine BaseDataset.

    An identity folder with no image is an error naming it (an empty identity would shift every later label).
    """

    def __init__(self, data_root: str, pipeline: Sequence[dict | Callable] = (),
                 identities: Sequence[str] | None = None, extensions: Sequence[str] = IMG_EXTENSIONS,
                 skip_corrupt: bool = False, **kwargs: Any):
        root = Path(data_root)
        if not root.is_dir():
            raise FileNotFoundError(f'{NAME}: data_root {root} is not a folder; expected data_root/<identity>/<image>')
        folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith('.'))
        names = check_classes([str(i) for i in identities], NAME) if identities is not None else tuple(folders)
        missing = [n for n in names if n not in folders]
        if missing or not names:
            raise ValueError(f'{NAME}: identities {missing or "(none)"} have no folder in {root} '
                             f'(folders there: {folders[:10]}{" ..." if len(folders) > 10 else ""})')
        self.extensions = tuple(e.lower() for e in extensions)
        metainfo = dict(kwargs.pop('metainfo', None) or {}, classes=names)
        super().__init__(data_root=str(root), pipeline=pipeline, skip_corrupt=skip_corrupt, metainfo=metainfo,
                         **kwargs)

    def load_data_list(self) -> list[dict]:
        data_list = []
        for label, name in enumerate(self.metainfo['classes']):
            folder = Path(self.data_root) / name
            files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in self.extensions
                           and not p.name.startswith('.'))
            if not files:
                raise ValueError(f'{NAME}: identity folder {folder} has no images with extensions '
                                 f'{list(self.extensions)}')
            data_list.extend(dict(img_path=str(p), gt_label=label) for p in files)
        return data_list
