"""Safe checkpoint reading: ``torch.load(weights_only=True)`` plus a short allowlist, then unwrapping to a state dict.

A checkpoint is a pickle, and unpickling can run arbitrary code; ``weights_only=True`` refuses every global outside
torch's tensor types and what we allow here (numpy arrays and scalars, which mmengine writes into ``meta``). Never
add callables such as ``builtins.getattr`` to the list: with them a pickle can reach methods that write files.
"""
from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

CONTAINER_KEYS = ('state_dict', 'model')  # mmengine/mmpretrain/mmdet/timm-train wrap weights in one of these
_GLOBAL = re.compile(r'GLOBAL ([\w.]+)')


def _safe_globals() -> list:
    """numpy arrays, scalars and dtypes, under numpy 2 names and the numpy 1 names old files carry."""
    core = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    allowed = [np.ndarray, np.dtype, core._reconstruct, core.scalar,
               (core._reconstruct, 'numpy.core.multiarray._reconstruct'),
               (core.scalar, 'numpy.core.multiarray.scalar')]
    allowed += [type(np.dtype(t)) for t in ('f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', '?')]
    return allowed


@dataclass
class Checkpoint:
    """A read checkpoint: its tensors, the container's ``meta`` and where it came from (for messages)."""

    state: dict[str, torch.Tensor]
    origin: str
    container: str | None = None
    meta: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # non-tensor entries of the state dict


def resolve_path(checkpoint: str | os.PathLike) -> Path:
    """Local path of ``checkpoint``; ``torchvision://NAME`` (mmdet configs) is looked up in torch's hub cache only.

    Nothing is downloaded: a missing file raises FileNotFoundError saying what to fetch and where to put it.
    """
    text = os.fspath(checkpoint)
    if text.startswith('torchvision://'):
        from mmengine.runner.checkpoint import get_torchvision_models
        name, urls = text[len('torchvision://'):], get_torchvision_models()
        if name not in urls:
            raise ValueError(f'unknown torchvision model {name!r} in checkpoint {text!r}')
        path = Path(torch.hub.get_dir()) / 'checkpoints' / urls[name].rsplit('/', 1)[-1]
        if not path.is_file():
            raise FileNotFoundError(f'checkpoint {text!r}: {path} not found; this loader never downloads: fetch '
                                    f'{urls[name]} into {path.parent} or pass a local path')
        return path
    if '://' in text:
        raise ValueError(f'checkpoint {text!r}: only local files (and torchvision://NAME from the hub cache) are '
                         'read; download it first and pass its path')
    path = Path(text).expanduser()
    if not path.exists():
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    if not path.is_file():
        raise ValueError(f'checkpoint {path} is not a file')
    return path


def _load_file(path: Path, mmap: bool) -> Any:
    # Zip-format files are memory-mapped: tensors are paged in when copied into a model, so a file read only to
    # tell its format (SafeRunner's load_from check, which mmengine then reads again) costs little.
    mmap = mmap and zipfile.is_zipfile(path)
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(path, map_location='cpu', weights_only=True, mmap=mmap)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError ... for bad files
        names = _unsafe_globals(path, err)
        if names:
            raise ValueError(
                f'refusing to load {path}: it pickles objects other than tensors and plain data ({", ".join(names)}); '
                'unpickling them could run code. If it is a whole model saved with torch.save(model), save '
                'model.state_dict() instead; if it is a training checkpoint, re-save only its state_dict') from None
        raise ValueError(f'{path} is not a readable torch checkpoint ({_detail(err)})') from None


def load_whole(checkpoint: str | os.PathLike) -> Any:
    """Everything in a checkpoint file (weights, optimizer, meta ...), read with ``weights_only=True`` whatever
    torch's default (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` turns the default off) and not memory-mapped: what
    resuming reads stays in use (optimizer state) while the file may be replaced. ValueError naming the file and
    what is wrong when it cannot be read."""
    return _load_file(resolve_path(checkpoint), mmap=False)


def _unsafe_globals(path: Path, err: Exception) -> list[str]:
    """Every global the file would import (zip checkpoints), else the one named in torch's error."""
    names = set(_GLOBAL.findall(str(err)))
    if names:
        try:
            with torch.serialization.safe_globals(_safe_globals()):
                names |= set(torch.serialization.get_unsafe_globals_in_checkpoint(path))
        except Exception:  # legacy (non-zip) files: keep the name from the error
            pass
    return sorted(names)


def _detail(err: Exception) -> str:
    # torch's own text suggests switching weights_only off; keep only the line that says what is wrong.
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    useful = [line for line in lines if 'weights_only' not in line and 'documentation' not in line
              and 'file an issue' not in line]
    return f'{type(err).__name__}: {(useful or ["no detail"])[0][:200]}'


def _unwrap(obj: Any, origin: str) -> tuple[Mapping, str | None, dict]:
    """The state dict inside ``obj``: obj itself when its values are tensors, else its 'state_dict'/'model' entry."""
    if not isinstance(obj, Mapping):
        raise ValueError(f'{origin} holds a {type(obj).__name__}, not a state dict (a dict of tensors)')
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj, None, {}
    for key in CONTAINER_KEYS:
        if isinstance(obj.get(key), Mapping):
            meta = obj.get('meta')
            return obj[key], key, dict(meta) if isinstance(meta, Mapping) else {}
    if any(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj, None, {}
    raise ValueError(f'{origin} holds no state dict: expected tensors or one of the keys {CONTAINER_KEYS}; '
                     f'found keys {sorted(map(str, obj))[:10]}')


def under_state_dict(obj: Any) -> Any:
    """A loaded checkpoint with its weights under 'state_dict', where mmengine's loader looks: ``read_checkpoint``
    also unwraps 'model' (timm's and torchvision's training scripts), which mmengine does not, so one file loaded
    whole through our loaders and not at all through mmengine's. Anything else is returned as it is."""
    if not isinstance(obj, Mapping) or 'state_dict' in obj or not isinstance(obj.get('model'), Mapping):
        return obj
    return {**{k: v for k, v in obj.items() if k != 'model'}, 'state_dict': obj['model']}


def read_checkpoint(checkpoint: str | os.PathLike | Mapping | Checkpoint, mmap: bool = False) -> Checkpoint:
    """Read ``checkpoint`` (a path, ``torchvision://NAME``, or an already-loaded dict) into a flat state dict.

    Unwraps 'state_dict'/'model' containers and strips the 'module.' prefix that DDP adds to every key. A
    Checkpoint already read is returned as it is, so that messages go on naming its file. ``mmap=True`` maps a
    zip file's tensors instead of reading them (for loaders that only copy them into a model): they then read the
    file while they live, so saving over it crashed the process (SIGBUS) and truncated the file; the default reads.
    """
    if isinstance(checkpoint, Checkpoint):
        return checkpoint
    if isinstance(checkpoint, Mapping):
        obj, origin = checkpoint, '<state dict>'
    elif isinstance(checkpoint, (str, os.PathLike)):
        path = resolve_path(checkpoint)
        obj, origin = _load_file(path, mmap=mmap), str(path)
    else:
        raise TypeError(f'checkpoint must be a path or a state dict; got {type(checkpoint).__name__}')
    state, container, meta = _unwrap(obj, origin)
    tensors = {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    skipped = [str(k) for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if not tensors:
        raise ValueError(f'{origin} holds no tensors')
    if all(k.startswith('module.') for k in tensors):
        tensors = {k[len('module.'):]: v for k, v in tensors.items()}
    return Checkpoint(tensors, origin, container, meta, skipped)
