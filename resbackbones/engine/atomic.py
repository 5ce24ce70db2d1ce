"""Atomic file writes and a latest-checkpoint lookup that survive a kill at any moment.

A checkpoint is first written to a hidden temporary file in the destination folder, flushed and fsynced, then
moved over the final name with ``os.replace`` (atomic on POSIX and Windows within one file system), and the folder
is fsynced so the rename itself is durable. A reader therefore sees the old complete file or the new complete
file, never a truncated one.
"""
from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

TMP_MARK = '.tmp-'
CKPT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


@contextmanager
def atomic_path(path: str, keep_extension: bool = False) -> Iterator[str]:
    """Yield a temporary path beside ``path`` to write to; on success it replaces ``path`` atomically.
    ``keep_extension`` ends the temporary name with ``path``'s extension (for writers that pick the format by it).

    The temporary file is fsynced, renamed over ``path`` and the folder fsynced. If the block raises, ``path`` is
    untouched and the temporary file removed; if the process is killed, only a hidden ``.NAME.tmp-*`` file stays
    (``remove_stale_temporaries`` clears those).
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):  # mkstemp's error named the temporary file, not the missing folder
        raise FileNotFoundError(f'cannot write {path}: its folder {folder} does not exist')
    suffix = os.path.splitext(path)[1] if keep_extension else ''
    fd, tmp = tempfile.mkstemp(prefix=f'.{os.path.basename(path)}{TMP_MARK}', suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, 'rb+') as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would have made it: mkstemp's is owner-only
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    fsync_dir(folder)


def _umask() -> int:
    """The process's umask, read without changing it (os.umask can only be read by setting it, for all threads)."""
    try:
        with open('/proc/self/status', encoding='ascii') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_replaceable(path: str, owns: Callable[[Sequence[str]], bool], what: str = 'folder',
                      inputs: dict[str, str | None] | None = None) -> None:
    """Refuse a folder that :func:`atomic_dir` may not replace: a file at ``path`` or above it, an existing
    folder that holds entries ``owns`` does not recognise as an earlier output of the same writer, or one that
    holds any of ``inputs`` (argument name -> file the writer reads). The replacement removes the old folder
    whole, so a mistyped output path (``--out .``) must not take other files with it. Tools call this first,
    before their work, so a refusal costs nothing."""
    path = os.path.abspath(path)
    for name, file in (inputs or {}).items():
        if file and os.path.commonpath([os.path.realpath(path), os.path.realpath(file)]) == os.path.realpath(path):
            raise ValueError(f'{name} {file} lies inside {what} {path}, which is replaced as a whole: it would be '
                             f'deleted; write to another folder')
    ancestor = path
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise NotADirectoryError(f'{what} {path}: {ancestor} is a file; give a folder')
    names = sorted(os.listdir(path)) if ancestor == path else []
    if names and not owns(names):
        raise ValueError(f'{what} {path} holds other files (e.g. {names[:3]}); it would be replaced as a whole, so '
                         f'give a new or empty folder, or one this tool wrote before')


def _nothing(names: Sequence[str]) -> bool:
    return False


@contextmanager
def atomic_dir(path: str, owns: Callable[[Sequence[str]], bool] = _nothing, what: str = 'folder') -> Iterator[str]:
    """Yield a hidden temporary folder beside ``path`` to fill; on success it replaces folder ``path`` as a whole.

    A reader sees the old complete folder or the new complete one: the new folder is renamed into place (an old
    one is first renamed aside, then removed). If the block raises, ``path`` is untouched and the temporary
    folder removed. Files inside, subfolders included, are fsynced before the rename. An existing ``path`` is
    replaced only if it is empty or ``owns`` its entries (:func:`check_replaceable`; by default none are).
    """
    path = os.path.abspath(path)
    check_replaceable(path, owns, what)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    # os.mkdir applies the umask as any new folder gets it (mkdtemp would leave it readable by its owner only)
    tmp = os.path.join(parent, f'.{os.path.basename(path)}{TMP_MARK}{secrets.token_hex(6)}')
    os.mkdir(tmp)
    try:
        yield tmp
        for folder, _, files in os.walk(tmp):  # subfolders too (a detector's branch backends)
            for name in files:
                with open(os.path.join(folder, name), 'rb+') as f:
                    os.fsync(f.fileno())
        old = None
        if os.path.exists(path):
            old = tempfile.mkdtemp(prefix=f'.{os.path.basename(path)}.old{TMP_MARK}', dir=parent)
            os.replace(path, os.path.join(old, 'previous'))
        os.replace(tmp, path)
        fsync_dir(parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_figure(fig, path: str, dpi: int = 80) -> str:
    """Write matplotlib ``fig`` to ``path`` atomically (creating the folder) in the format its extension names
    (.png, .jpg, .pdf, .svg ...; PNG bytes went into '.jpg' files), close it; returns ``path``. ValueError for an
    extension matplotlib does not write, before anything is written."""
    import matplotlib.pyplot as plt  # only the picture writers need matplotlib

    try:
        image_format = os.path.splitext(path)[1].lower().lstrip('.')
        supported = fig.canvas.get_supported_filetypes()
        if image_format not in supported:
            raise ValueError(f'{path}: give a picture file name ending in one of '
                             f'{", ".join("." + k for k in sorted(supported))}')
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=image_format, dpi=dpi)
    finally:
        plt.close(fig)
    return path


def fsync_dir(folder: str) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temporaries(folder: str, suffix: str = '.pth') -> list[str]:
    """Delete temporaries of ``*suffix`` files left in ``folder`` by a process killed mid-write; returns them."""
    stale = glob.glob(os.path.join(glob.escape(folder), f'.*{suffix}{TMP_MARK}*'))
    for path in stale:
        os.remove(path)
    return stale


def latest_checkpoint(work_dir: str) -> str | None:
    """The checkpoint to resume from in ``work_dir``, or None.

    mmengine's ``last_checkpoint`` file is trusted when it names an existing file; otherwise (missing, empty or
    stale after a kill) the ``epoch_N.pth`` / ``iter_N.pth`` in ``work_dir`` with the highest N (by modification
    time only between the highest epoch and the highest iteration file): a copied or restored folder's times say
    nothing of the order the files were written in.
    """
    pointer = os.path.join(work_dir, 'last_checkpoint')
    if os.path.isfile(pointer):
        with open(pointer, encoding='utf-8') as f:
            named = f.read().strip()
        if named and os.path.isfile(named):
            return named
    highest: dict[str, tuple[int, str]] = {}
    for name in os.listdir(work_dir) if os.path.isdir(work_dir) else []:
        match = CKPT_NAME.match(name)
        if match and int(match[2]) >= highest.get(match[1], (-1, ''))[0]:
            highest[match[1]] = (int(match[2]), os.path.join(work_dir, name))
    found = [path for _, path in highest.values()]
    return max(found, key=os.path.getmtime) if found else None


def ensure_writable_dir(path: str, what: str = 'work_dir') -> None:
    """Create folder ``path`` if needed; ValueError naming ``what`` when it cannot be created or written (an
    OSError traceback from mmengine's runner otherwise, before any log exists)."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise ValueError(f'{what} {path} cannot be created: {err.strerror or err}'
                         f'{f" ({err.filename})" if err.filename and err.filename != path else ""}') from err
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f'{what} {path} is not writable by this user; give a folder you can write to')
