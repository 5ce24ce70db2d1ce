"""mmaction2's ``LFB``: a long-term feature bank read back per key frame (Wu et al., "Long-Term Feature Banks for
Detailed Video Understanding", 2019).

A bank file ``{lfb_prefix_path}/lfb_{mode}.pkl`` (written by ``LFBInferHead``) maps a video id to ``{second:
features}``: the pooled RoI features (n, C) of the people found at that second, as a tensor or a list of (C,)
tensors (mmaction2's files). For a key frame at ``timestamp`` the bank returns ``window_size`` seconds around it,
``max_num_sampled_feat`` features each (drawn with ``torch.randperm`` in mmaction2's order, so the same seed draws
the same features), zeros where a second has fewer or none: (window_size * max_num_sampled_feat, C).

Files are read with ``torch.load(weights_only=True)`` only, and lazily on the first request: a config builds
without its bank (``tools/check_configs.py``), and 'gpu' resolves to the device the runner has made current.
With ``device='lmdb'`` the bank files are turned into an lmdb database once (``lfb_lmdb.py``) and each request
reads its video's record, so no process holds the whole bank.
"""
from __future__ import annotations

import os
import warnings
from typing import Sequence

import torch
from mmengine.dist import barrier, get_dist_info

from .lfb_lmdb import LmdbBank, build_lmdb_bank, import_lmdb

DEVICES = ('gpu', 'cpu', 'lmdb')


def _modes(dataset_modes: str | Sequence[str]) -> tuple[str, ...]:
    modes = (dataset_modes,) if isinstance(dataset_modes, str) else tuple(dataset_modes)
    if not modes or not all(isinstance(m, str) for m in modes):
        raise ValueError(f"LFB: dataset_modes must be a mode name or a sequence of them (e.g. ('train', 'val')); "
                         f'got {dataset_modes!r}')
    return modes


def load_bank_file(path: str, map_location: str | torch.device) -> dict:
    """One bank file as ``{video_id: {second: (n, C) tensor}}`` (lists of (C,) tensors stacked), read with
    ``weights_only=True``; errors name the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'LFB: bank file {path} does not exist (write it with an LFBInferHead config, '
                                f"dataset_mode='{os.path.basename(path)[4:-4]}')")
    try:
        bank = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # the unpickler's refusal or a damaged file: name the file
        raise ValueError(f'LFB: cannot read bank file {path} with weights_only=True: {err}') from err
    if not isinstance(bank, dict):
        raise ValueError(f'LFB: bank file {path} must hold a dict {{video_id: {{second: features}}}}; '
                         f'got {type(bank).__name__}')
    for video_id, seconds in bank.items():
        if not isinstance(seconds, dict):
            raise ValueError(f'LFB: bank file {path}, video {video_id!r}: expected {{second: features}}; '
                             f'got {type(seconds).__name__}')
        for sec, feat in seconds.items():
            if isinstance(feat, (list, tuple)):
                seconds[sec] = torch.stack(feat)
    return bank


class LFB:
    """Args (mmaction2's):
        lfb_prefix_path: folder of the ``lfb_{mode}.pkl`` files.
        max_num_sampled_feat: K, features drawn per second.
        window_size: seconds read around the key frame (from ``timestamp - window_size // 2``).
        lfb_channels: C of the stored features.
        dataset_modes: which files to load and merge (e.g. ('train', 'val')).
        device: 'cpu' (the bank in RAM), 'gpu' (on the current CUDA device) or 'lmdb' (an lmdb database in
            ``{lfb_prefix_path}/lmdb``, read per video; needs the lmdb package: ``resbackbones[lfb]``).
        lmdb_map_size: the database's size limit in bytes (lmdb reserves the address space, not the disk).
        construct_lmdb: build the database from the bank files on first use (rank 0; the others wait); False reads
            one built before.
    """

    def __init__(self, lfb_prefix_path: str, max_num_sampled_feat: int = 5, window_size: int = 60,
                 lfb_channels: int = 2048, dataset_modes: str | Sequence[str] = ('train', 'val'), device: str = 'gpu',
                 lmdb_map_size: float = 4e9, construct_lmdb: bool = True):
        if device not in DEVICES:
            raise ValueError(f'LFB: device must be one of {DEVICES}; got {device!r}')
        for name, value in (('max_num_sampled_feat', max_num_sampled_feat), ('window_size', window_size),
                            ('lfb_channels', lfb_channels)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'LFB: {name} must be a positive integer; got {value!r}')
        if isinstance(lmdb_map_size, bool) or not isinstance(lmdb_map_size, (int, float)) or not lmdb_map_size >= 1:
            raise ValueError(f'LFB: lmdb_map_size must be a positive number of bytes; got {lmdb_map_size!r}')
        if device == 'lmdb':
            import_lmdb()  # a missing package is named when the config builds, not at the first batch
        self.lmdb_map_size, self.construct_lmdb = int(lmdb_map_size), bool(construct_lmdb)
        self.lfb_prefix_path, self.device, self.dataset_modes = lfb_prefix_path, device, _modes(dataset_modes)
        self.max_num_sampled_feat, self.window_size, self.lfb_channels = max_num_sampled_feat, window_size, lfb_channels
        self.lfb: dict | LmdbBank | None = None

    def _map_location(self) -> torch.device:
        if self.device == 'cpu':
            if get_dist_info()[1] > 1:
                warnings.warn('LFB: device=cpu in a distributed run holds one copy of the bank per process in RAM; '
                              "device='lmdb' reads each video's record from one database")
            return torch.device('cpu')
        if not torch.cuda.is_available():
            raise RuntimeError("LFB: device='gpu' but CUDA is not available here; set lfb_cfg.device='cpu'")
        return torch.device('cuda', torch.cuda.current_device())

    def _read_bank_files(self, where: torch.device) -> dict:
        if not os.path.isdir(self.lfb_prefix_path):
            raise FileNotFoundError(f'LFB: lfb_prefix_path {self.lfb_prefix_path} does not exist (the folder of '
                                    'the lfb_{mode}.pkl files an LFBInferHead config writes)')
        bank = {}
        for mode in self.dataset_modes:
            bank.update(load_bank_file(os.path.join(self.lfb_prefix_path, f'lfb_{mode}.pkl'), where))
        return bank

    def _open_lmdb(self) -> LmdbBank:
        db_path = os.path.join(self.lfb_prefix_path, 'lmdb')
        if self.construct_lmdb and get_dist_info()[0] == 0:
            build_lmdb_bank(self._read_bank_files(torch.device('cpu')), db_path, self.lmdb_map_size)
        barrier()  # the other ranks open the database rank 0 has finished
        return LmdbBank(db_path)

    def load(self) -> dict | LmdbBank:
        """The bank (once): the bank files of ``dataset_modes`` merged in memory, or the lmdb database."""
        if self.lfb is None:
            self.lfb = self._open_lmdb() if self.device == 'lmdb' else self._read_bank_files(self._map_location())
        return self.lfb

    def sample_long_term_features(self, video_id: str, timestamp: int) -> torch.Tensor:
        """(window_size * max_num_sampled_feat, lfb_channels) float features around ``timestamp`` of ``video_id``;
        each second's features in a random order (``torch.randperm``), the first K kept, zeros elsewhere."""
        bank = self.load()
        if video_id not in bank:
            raise KeyError(f'LFB: video {video_id!r} is not in the bank of {self.lfb_prefix_path} (modes '
                           f'{self.dataset_modes}; {len(bank)} videos)')
        seconds, k = bank[video_id], self.max_num_sampled_feat
        start = timestamp - self.window_size // 2
        feats = torch.zeros(self.window_size, k, self.lfb_channels)
        for i, sec in enumerate(range(start, start + self.window_size)):
            if sec in seconds:
                feat = seconds[sec]
                if feat.shape[-1] != self.lfb_channels:
                    raise ValueError(f'LFB: video {video_id!r} second {sec} has {feat.shape[-1]}-channel features; '
                                     f'lfb_channels={self.lfb_channels}')
                feats[i, :len(feat)] = feat[torch.randperm(len(feat))[:k]]
        return feats.reshape(-1, self.lfb_channels)

    def __getitem__(self, img_key: str) -> torch.Tensor:
        """``lfb['video_id,0902']``: the long-term features around that key frame."""
        video_id, sep, timestamp = img_key.rpartition(',')
        if not sep or not timestamp.strip().isdigit():
            raise KeyError(f"LFB: img_key must be 'video_id,second' (e.g. '0f39OWEqJ24,0902'); got {img_key!r}")
        return self.sample_long_term_features(video_id, int(timestamp))

    def __len__(self) -> int:
        """Number of videos in the bank."""
        return len(self.load())
