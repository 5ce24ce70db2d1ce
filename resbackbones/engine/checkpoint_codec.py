"""Make mmengine checkpoints loadable with ``torch.load(weights_only=True)`` and restore them after loading.

mmengine 0.10 pickles its message hub as ``HistoryBuffer`` objects holding numpy arrays, and metrics or runtime
info may be numpy scalars. torch >= 2.6 loads with ``weights_only=True`` by default, which refuses those classes,
so mmengine cannot resume its own checkpoints. Allowlisting them is no fix: after HistoryBuffer and the numpy
classes, those pickles ask for ``builtins.getattr``, which would reopen arbitrary code execution. Instead every
such object is written as plain Python values and tensors, tagged, and rebuilt after loading:

* ``HistoryBuffer`` -> ``{TAG: 'HistoryBuffer', 'log_history': tensor, 'count_history': tensor, 'max_length': int}``
* ``numpy.ndarray`` -> ``{TAG: 'ndarray', 'data': tensor}`` (numeric dtypes; others become lists)
* numpy scalars -> the Python scalar (``item()``); tuples, lists, dicts, sets, OrderedDict and Counter recurse,
  dict keys included.

Anything else that ``weights_only`` would refuse is stored as its ``repr`` with a warning naming its key.
"""
from __future__ import annotations

import enum
import logging
from collections import Counter, OrderedDict
from typing import Any

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log

TAG = '__resbackbones_type__'
_PRIMITIVES = (str, bytes, int, float, complex, bool, type(None))  # exact types: subclasses (IntEnum ...) pickle
_TORCH = (torch.Tensor, torch.dtype, torch.device, torch.Size)     # as themselves and are refused
_CONTAINERS = (dict, OrderedDict, Counter, list, tuple, set)


def encode(obj: Any, where: str = 'checkpoint') -> Any:
    """``obj`` rewritten so that ``torch.load(weights_only=True)`` accepts it; ``where`` names it in warnings.

    Containers whose items need no change are returned as they are (a state_dict keeps its ``_metadata``).
    """
    if type(obj) in _PRIMITIVES or isinstance(obj, _TORCH):
        return obj
    if isinstance(obj, np.generic):  # numpy.float64 subclasses float but pickles as a numpy object
        return encode(obj.item(), where)  # datetime64's item() is a datetime, refused in turn
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {TAG: 'HistoryBuffer', 'log_history': _array(log), 'count_history': _array(count),
                'max_length': int(obj.max_length)}
    if isinstance(obj, np.ndarray):
        return {TAG: 'ndarray', 'data': _array(obj)}
    if isinstance(obj, dict):
        pairs = [(encode_key(key, where), key, value) for key, value in obj.items()]
        items = {new: encode(value, f'{where}[{key!r}]') for new, key, value in pairs}
        if type(obj) in _CONTAINERS and all(new is key and items[new] is value for new, key, value in pairs):
            return obj
        return type(obj)(items) if type(obj) in (OrderedDict, Counter) else items
    if isinstance(obj, (list, tuple, set)):
        items = [encode(value, f'{where}[{i}]') for i, value in enumerate(obj)]
        if type(obj) in _CONTAINERS and all(new is old for new, old in zip(items, obj)):
            return obj
        return items if isinstance(obj, list) else (tuple(items) if isinstance(obj, tuple) else set(items))
    if isinstance(obj, enum.Enum):  # str(S.X) of a (str, Enum) is 'S.X', not its value 'x'
        return encode(obj.value, where)
    if isinstance(obj, _PRIMITIVES):  # other subclasses of primitives: their plain value
        kind = next(t for t in _PRIMITIVES if isinstance(obj, t))
        return str.__str__(obj) if kind is str else kind(obj)
    print_log(f'checkpoint: {where} is a {type(obj).__module__}.{type(obj).__name__}, which '
              f'torch.load(weights_only=True) refuses; saved as its repr string instead',
              logger='current', level=logging.WARNING)
    return repr(obj)


def encode_key(key: Any, where: str) -> Any:
    """A dict key that ``weights_only`` accepts: numpy scalars and enums as their plain value, tuples item by item,
    anything else as its repr (with a warning): a key left as it was made every later checkpoint unreadable."""
    if type(key) in _PRIMITIVES:
        return key
    if isinstance(key, tuple):
        items = tuple(encode_key(item, where) for item in key)
        return key if type(key) is tuple and all(new is old for new, old in zip(items, key)) else items
    new = encode(key, f'{where} key {key!r}')
    return new if type(new) in _PRIMITIVES else repr(key)


def _array(array: np.ndarray) -> torch.Tensor | list:
    """A numeric numpy array as a tensor of the same dtype; other arrays as (encoded) lists."""
    array = np.asarray(array)
    if array.dtype.kind in 'biufc':  # complex too: as a list it came back complex128
        return torch.from_numpy(array.copy())
    return encode(array.tolist())


def decode(obj: Any) -> Any:
    """Inverse of :func:`encode`: tagged dicts become HistoryBuffers and numpy arrays again.

    Containers whose items need no change are returned as they are (a state_dict keeps its ``_metadata``).
    """
    if isinstance(obj, dict):
        tag = obj.get(TAG)
        if tag == 'HistoryBuffer':
            return HistoryBuffer(_numpy(obj['log_history']), _numpy(obj['count_history']), obj['max_length'])
        if tag == 'ndarray':
            return _numpy(obj['data'])
        items = {key: decode(value) for key, value in obj.items()}
        if all(items[k] is v for k, v in obj.items()):
            return obj
        return type(obj)(items) if type(obj) in (OrderedDict, Counter) else items
    if isinstance(obj, (list, tuple)):
        items = [decode(value) for value in obj]
        if all(new is old for new, old in zip(items, obj)):
            return obj
        return items if isinstance(obj, list) else tuple(items)
    return obj


def _numpy(data: torch.Tensor | list) -> np.ndarray:
    return data.numpy() if isinstance(data, torch.Tensor) else np.asarray(data)


def encode_checkpoint(checkpoint: dict) -> None:
    """Encode every entry of ``checkpoint`` in place (weights are tensors already and pass through unchanged)."""
    for key in list(checkpoint):
        checkpoint[key] = encode(checkpoint[key], f'checkpoint[{key!r}]')


def decode_checkpoint(checkpoint: dict) -> None:
    """Decode every entry of ``checkpoint`` in place."""
    for key in list(checkpoint):
        checkpoint[key] = decode(checkpoint[key])
