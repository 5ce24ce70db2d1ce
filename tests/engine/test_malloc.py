"""env_cfg.malloc: glibc keeps freed memory (fewer page faults at the next allocation); bad options are named."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from resbackbones.engine import malloc
from resbackbones.engine.malloc import MAX_THRESHOLD, glibc_mallopt, set_malloc_thresholds

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/engine: the shared tiny set-up
from test_runner import make_runner  # noqa: E402
from tiny import tiny_setup  # noqa: E402

needs_glibc = pytest.mark.skipif(glibc_mallopt() is None, reason='the C library is not glibc')

# Minor page faults of four 64 MiB tensors allocated, touched and freed in a row, after three such warm-up rounds
# (glibc's free chunks settle in them), printed by a fresh process: mallopt is process-wide, so never set here.
REPEATED_ALLOCATION_FAULTS = textwrap.dedent('''
    import resource, sys, torch
    from resbackbones.engine.malloc import set_malloc_thresholds
    if sys.argv[1] == 'keep':
        print(set_malloc_thresholds(dict(mmap_threshold=2**31 - 1, trim_threshold=2**31 - 1)), file=sys.stderr)
    for _ in range(3):
        torch.ones(16 << 20)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        torch.ones(16 << 20)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
''')


def allocation_faults(mode: str) -> tuple[int, str]:
    """The child's fault count and its log line (stderr)."""
    done = subprocess.run([sys.executable, '-c', REPEATED_ALLOCATION_FAULTS, mode], capture_output=True, text=True,
                          check=True)
    return int(done.stdout.strip().splitlines()[-1]), done.stderr.strip()


@needs_glibc
def test_kept_memory_is_not_faulted_in_again():
    pages = (64 << 20) // 4096
    kept, line = allocation_faults('keep')
    assert line == 'env_cfg.malloc: mmap_threshold=2147483647, trim_threshold=2147483647'
    default, _ = allocation_faults('default')
    if default < 2 * pages:  # transparent huge pages 'always': 2 MiB pages, a few dozen faults either way
        pytest.skip(f'{default} faults for 4 x {pages} 4 KiB pages by default: the kernel maps huge pages here')
    # by default glibc gave each tensor back and the next one was faulted in afresh (>= 2 x pages); kept in the heap,
    # not one tensor's worth of faults in four
    assert kept < pages // 4


def test_without_glibc_nothing_is_set_and_the_line_says_so(monkeypatch):
    monkeypatch.setattr(malloc, 'glibc_mallopt', lambda: None)
    assert set_malloc_thresholds(dict(trim_threshold=1 << 30)) == \
        'env_cfg.malloc ignored: the C library is not glibc (no mallopt to set)'


@pytest.mark.parametrize('options, message', [
    (dict(mmap_threshold=-1), r'env_cfg.malloc.mmap_threshold must be an integer number of bytes in \[0, 2147483647\]'),
    (dict(trim_threshold=MAX_THRESHOLD + 1), r'env_cfg.malloc.trim_threshold must be an integer'),
    (dict(trim_threshold=True), r'env_cfg.malloc.trim_threshold must be an integer'),
    (dict(arena_max=2), r"env_cfg.malloc: unknown keys \['arena_max'\]; expected some of \['mmap_threshold', "),
    ('big', r'env_cfg.malloc must be a dict'),
])
def test_bad_options_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        set_malloc_thresholds(options)


def test_the_runner_sets_env_cfg_malloc_and_logs_it(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr('resbackbones.engine.runner.set_malloc_thresholds',
                        lambda options: calls.append(options) or 'env_cfg.malloc: (recorded)')
    options = dict(mmap_threshold=1 << 30, trim_threshold=1 << 30)
    make_runner(tiny_setup(tmp_path, max_epochs=1), tmp_path / 'work', 'malloc', env_cfg=dict(malloc=options))
    assert calls == [options]
    assert 'env_cfg.malloc: (recorded)' in capsys.readouterr().out
    make_runner(tiny_setup(tmp_path / 'plain', max_epochs=1), tmp_path / 'plain_work', 'plain')
    assert calls == [options]  # not asked: nothing set
