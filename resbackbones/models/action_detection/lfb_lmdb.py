"""A long-term feature bank kept in an lmdb database (mmaction2's ``LFB(device='lmdb')``): one record per video,
read when a key frame of that video asks, so no process of a training run holds the whole bank (building the
database reads the bank files once, in rank 0).

The layout is mmaction2's: the database is the folder ``{lfb_prefix_path}/lmdb``, a record's key is the video id
(utf-8) and its value a ``torch.save`` of ``{second: features}``. This module stores each second's features as one
(n, C) tensor, which mmaction2's reader also takes; its builder stores the lists ``LFBInferHead`` wrote, which its
own reader then cannot index (``feat.shape`` of a list), while ``LmdbBank`` stacks them. Records are read with
``torch.load(weights_only=True)`` only.

lmdb opens a database once per process: every ``LmdbBank`` of a path shares that one read-only handle, and a copy
or pickle of a bank (an EMA model's deepcopy) carries the path only.

Building is atomic: the database is written in a sibling folder in one transaction and moved into place when
complete, so an interrupted or failed build leaves the previous database (or none) as it was, never a partial one
(mmaction2 commits per video into the live folder and keeps records of videos no longer in the bank).
"""
from __future__ import annotations

import io
import os
import shutil
import uuid

import torch

INSTALL_HINT = "pip install 'resbackbones[lfb]' (or: pip install lmdb)"
_OPEN: dict[tuple[int, str], object] = {}  # (pid, real path) -> the process's read-only lmdb.Environment


def import_lmdb():
    """The ``lmdb`` module, or an ImportError that says how to install it."""
    try:
        import lmdb
    except ImportError as err:
        raise ImportError(f"LFB: device='lmdb' needs the lmdb package, which is not installed: {INSTALL_HINT}; or "
                          "use device='cpu' (the bank in RAM)") from err
    return lmdb


def _close(db_path: str) -> None:
    env = _OPEN.pop((os.getpid(), os.path.realpath(db_path)), None)
    if env is not None:
        env.close()


def _environment(db_path: str):
    key = (os.getpid(), os.path.realpath(db_path))
    if key not in _OPEN:
        _OPEN[key] = import_lmdb().open(db_path, readonly=True, lock=False, subdir=True)
    return _OPEN[key]


def build_lmdb_bank(bank: dict, db_path: str, map_size: int) -> None:
    """Write ``bank`` ({video_id: {second: (n, C) tensor}}) as the lmdb database folder ``db_path``, replacing
    what was there only once the new one is complete. ``map_size``: the database's size limit in bytes."""
    lmdb = import_lmdb()
    parent = os.path.dirname(os.path.abspath(db_path))
    staging = os.path.join(parent, f'.{os.path.basename(db_path)}.partial-{uuid.uuid4().hex[:8]}')
    try:
        env = lmdb.open(staging, map_size=map_size, subdir=True)
        try:
            with env.begin(write=True) as txn:
                for video_id, seconds in bank.items():
                    buffer = io.BytesIO()
                    torch.save({sec: feat.cpu() for sec, feat in seconds.items()}, buffer)
                    txn.put(str(video_id).encode(), buffer.getvalue())
        finally:
            env.close()
    except lmdb.MapFullError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise ValueError(f'LFB: the bank does not fit in lmdb_map_size={map_size} bytes while building {db_path}; '
                         'raise lfb_cfg.lmdb_map_size') from err
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _close(db_path)  # this process's handle on the database being replaced
    previous = None
    if os.path.exists(db_path):
        previous = f'{staging}.previous'
        os.replace(db_path, previous)
    os.replace(staging, db_path)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


class LmdbBank:
    """Read-only ``{video_id: {second: (n, C) tensor}}`` view of an lmdb bank (the dict interface ``LFB`` uses).

    Args:
        db_path: the database folder (``{lfb_prefix_path}/lmdb``).
    """

    def __init__(self, db_path: str):
        import_lmdb()
        if not os.path.isdir(db_path) or not os.path.isfile(os.path.join(db_path, 'data.mdb')):
            raise FileNotFoundError(f'LFB: lmdb bank {db_path} does not exist (build it with lfb_cfg.construct_lmdb='
                                    "True from the lfb_{mode}.pkl files)")
        self.db_path = db_path

    def _get(self, video_id: object) -> bytes | None:
        with _environment(self.db_path).begin(write=False) as txn:
            return txn.get(str(video_id).encode())

    def __contains__(self, video_id: object) -> bool:
        return self._get(video_id) is not None

    def __getitem__(self, video_id: str) -> dict:
        record = self._get(video_id)
        if record is None:
            raise KeyError(video_id)
        try:
            seconds = torch.load(io.BytesIO(record), map_location='cpu', weights_only=True)
        except Exception as err:  # the unpickler's refusal or a damaged record: name the database and the video
            raise ValueError(f'LFB: lmdb bank {self.db_path}, video {video_id!r}: cannot read the record with '
                             f'weights_only=True: {err}') from err
        if not isinstance(seconds, dict):
            raise ValueError(f'LFB: lmdb bank {self.db_path}, video {video_id!r}: expected {{second: features}}; '
                             f'got {type(seconds).__name__}')
        return {sec: torch.stack(feat) if isinstance(feat, (list, tuple)) else feat for sec, feat in seconds.items()}

    def __len__(self) -> int:
        return _environment(self.db_path).stat()['entries']
