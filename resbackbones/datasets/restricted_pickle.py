"""Reading foreign pickles (insightface's .bin, mmaction2's skeleton annotations) without trusting them.

``pickle.load`` runs whatever callable a file names, so a crafted annotation file is code. Here only the named
(module, name) pairs may be constructed; anything else is refused before it runs, naming the file and the object,
as the project's checkpoints are (``weights_only=True``).
"""
from __future__ import annotations

import _compat_pickle
import io
import os
import pickle
from typing import Any

# numpy arrays and scalars as numpy 1.x (numpy.core) and 2.x (numpy._core) pickle them; _frombuffer is protocol 5's;
# protocols 0-2 (mmengine's and mmcv's dump default is 2) rebuild an array's bytes through _codecs.encode
NUMPY_ARRAYS = frozenset({
    ('numpy', 'ndarray'), ('numpy', 'dtype'), ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'), ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'), ('numpy.core.numeric', '_frombuffer'),
    ('numpy._core.numeric', '_frombuffer'), ('_codecs', 'encode'),
})


class RefusedPickle(ValueError):
    """A pickle names an object outside the allowed set; the message names the file and the object."""


def python3_name(module: str, name: str) -> tuple[str, str]:
    """The Python 3 (module, name) of a Python 2 one (``__builtin__.set`` -> ``builtins.set``), as pickle maps
    protocol 0-2 names when it loads them."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path: str, allowed: frozenset, what: str, encoding: str):
        super().__init__(file, encoding=encoding)
        self.path, self.allowed, self.what = path, allowed, what

    def find_class(self, module: str, name: str):
        if (module, name) not in self.allowed and python3_name(module, name) not in self.allowed:
            raise RefusedPickle(f'{self.path}: refused to unpickle {module}.{name}: {self.what} (a pickle naming '
                                f'other objects could run code)')
        return super().find_class(module, name)


def load_restricted(path: str, allowed: frozenset, kind: str, what: str, encoding: str = 'ASCII') -> Any:
    """The object pickled in ``path``, built only from ``allowed`` (module, name) pairs. ``kind`` names the file
    type and ``what`` what it holds, for the errors (FileNotFoundError / ValueError, naming the file)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} does not exist')
    with open(path, 'rb') as f:
        data = f.read()
    try:
        return _RestrictedUnpickler(io.BytesIO(data), path, allowed, what, encoding).load()
    except RefusedPickle:
        raise
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError,
            UnicodeDecodeError) as err:  # ValueError: numpy's, for an array payload of the wrong size
        raise ValueError(f'{path}: not {kind} ({type(err).__name__}: {err})') from err
