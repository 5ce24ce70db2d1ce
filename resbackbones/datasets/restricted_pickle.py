"""Reading foreign pickles (insightface's .bin, mmaction2's skeleton annotations) without trusting them.

``pickle.load`` runs whatever callable a file names, so a crafted annotation file is code. Here only the named
(module, name) pairs may be constructed; anything else is refused before it runs, naming the file and the object,
as the project's checkpoints are (``weights_only=True``).
"""
from __future__ import annotations

import io
import os
import pickle
from typing import Any

# numpy arrays and scalars as numpy 1.x (numpy.core) and 2.x (numpy._core) pickle them; _frombuffer is protocol 5's
NUMPY_ARRAYS = frozenset({
    ('numpy', 'ndarray'), ('numpy', 'dtype'), ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'), ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'), ('numpy.core.numeric', '_frombuffer'),
    ('numpy._core.numeric', '_frombuffer'),
})


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path: str, allowed: frozenset, what: str, encoding: str):
        super().__init__(file, encoding=encoding)
        self.path, self.allowed, self.what = path, allowed, what

    def find_class(self, module: str, name: str):
        if (module, name) not in self.allowed:
            raise ValueError(f'{self.path}: refused to unpickle {module}.{name}: {self.what} (a pickle naming other '
                             f'objects could run code)')
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
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError,
            UnicodeDecodeError) as err:
        raise ValueError(f'{path}: not {kind} ({type(err).__name__}: {err})') from err
