"""A picture folder that holds the test images would have them replaced by pictures of the same name."""
from __future__ import annotations

import os

from mmengine.runner.base_loop import BaseLoop


def refuse_input_folder(runner, out_dir: str, hook: str) -> None:
    """ValueError when ``out_dir`` is the folder of a test image of ``runner``'s built test loop: a picture named
    after an image ('c0.png' for 'c0.png') replaced the image itself (the next test then failed on its size)."""
    loop = getattr(runner, '_test_loop', None)
    dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None) if isinstance(loop, BaseLoop) else None
    if dataset is None or not hasattr(dataset, 'get_data_info') or not os.path.isdir(out_dir):
        return
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        # every file of a sample: a segmentation set's masks sit in a folder of their own, under the same names
        for key, path in info.items():
            if not (key.endswith('_path') and isinstance(path, str) and path):
                continue
            folder = os.path.dirname(path) or '.'
            if os.path.isdir(folder) and os.path.samefile(folder, out_dir):
                raise ValueError(f'{hook}: out_dir {out_dir} holds the test set\'s files ({key} {path}); pictures '
                                 f'named after them would replace them: give another folder (--show-dir)')


def unique_name(stem: str, used: set[str], tag: object) -> str:
    """``stem``, or ``stem_<tag>`` (then ``_2``, ``_3`` ...) where a picture of that name was written before in
    this epoch; adds the result to ``used``. Images of one file name in several folders (each case's
    't1.nii.gz', COCO images under two folders) replaced each other's pictures."""
    name = stem if stem not in used else f'{stem}_{tag}'
    base, n = name, 2
    while name in used:
        name, n = f'{base}_{n}', n + 1
    used.add(name)
    return name
