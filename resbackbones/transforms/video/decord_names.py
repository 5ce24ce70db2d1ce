"""mmaction2's default reader names, ``DecordInit`` / ``DecordDecode``, served by the project's PyAV reader.

Nearly every mmaction2 video config reads with decord. Taking its two transform names here lets such a config run
unchanged, without decord installed, and with exact frames: decord's ``mode='efficient'`` seeks to key frames and
may return neighbours of the asked-for frames, whereas ``VideoReader`` always gives the frames of a full decode
(docs/video.md). Decord's arguments are accepted with their meaning where one remains (``num_threads`` -> decoder
threads); an argument that has none here is refused by name.
"""
from __future__ import annotations

from ...registry import TRANSFORMS
from .loading import PyAVDecode, PyAVInit


@TRANSFORMS.register_module()
class DecordInit(PyAVInit):
    """mmaction2's ``DecordInit(io_backend='disk', num_threads=1)``: opens the video with the PyAV reader."""

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1, **kwargs):
        if io_backend != 'disk' or kwargs:
            raise ValueError(f'DecordInit reads local files only (io_backend={io_backend!r}); unexpected arguments '
                             f'{sorted(kwargs)}')
        super().__init__(threads=num_threads)


@TRANSFORMS.register_module()
class DecordDecode(PyAVDecode):
    """mmaction2's ``DecordDecode(mode='accurate' | 'efficient')``: both decode exactly the sampled frames."""

    def __init__(self, mode: str = 'accurate', **kwargs):
        if mode not in ('accurate', 'efficient') or kwargs:
            raise ValueError(f"DecordDecode: mode must be 'accurate' or 'efficient' (both exact here); got "
                             f'mode={mode!r}, other arguments {sorted(kwargs)}')
        super().__init__()
