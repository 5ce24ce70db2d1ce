"""Keep freed memory in the process between training steps (glibc's ``mallopt``), so a CPU step does not fault its
activations in afresh.

glibc hands blocks above a moving threshold back to the kernel when they are freed (``munmap``, or trimming the
top of the heap), and the next step's allocations of the same size fault every page in again, zeroed by the
kernel: 80 nuclei U-Net training iterations took 1.0 million such faults. Raising both thresholds keeps the
memory in the heap: the same run took 0.32 million faults, and whole runs were 1-9% faster, for 7% more
resident memory (docs/training.md, "CPU: keep freed memory"). jemalloc or tcmalloc preloaded
(``LD_PRELOAD``, what Intel's launcher does) give the same; this needs no other library.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from typing import Callable

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MAX_THRESHOLD = 2 ** 31 - 1  # mallopt takes a C int
OPTIONS = {'mmap_threshold': M_MMAP_THRESHOLD, 'trim_threshold': M_TRIM_THRESHOLD}


def glibc_mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt(param, value)``, or None where the C library is not glibc (musl, macOS, Windows)."""
    name = ctypes.util.find_library('c')
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # glibc's own symbol: other C libraries' mallopt take other parameters
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt


def set_malloc_thresholds(options: dict, where: str = 'env_cfg.malloc') -> str:
    """Apply ``options`` (``mmap_threshold`` and/or ``trim_threshold``, bytes in [0, 2**31 - 1]) with glibc's
    ``mallopt``. Returns a line for the log: what was set, or why nothing was. Bad options raise ValueError naming
    ``where`` and the key."""
    if not isinstance(options, dict):
        raise ValueError(f'{where} must be a dict of {sorted(OPTIONS)}; got {options!r}')
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f'{where}: unknown keys {unknown}; expected some of {sorted(OPTIONS)}')
    for key, value in options.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_THRESHOLD:
            raise ValueError(f'{where}.{key} must be an integer number of bytes in [0, {MAX_THRESHOLD}]; got {value!r}')
    mallopt = glibc_mallopt()
    if mallopt is None:
        return f'{where} ignored: the C library is not glibc (no mallopt to set)'
    refused = [key for key, value in options.items() if mallopt(OPTIONS[key], value) != 1]
    if refused:
        return f'{where}: glibc refused {refused}; the others are set'
    return f'{where}: ' + ', '.join(f'{key}={value}' for key, value in options.items())
