"""atomic_dir: a folder replaced whole on success, untouched (and no temporaries left) on failure, never one that
holds what its writer did not write; files and folders get the permissions open() and mkdir() would give."""
import os
import stat

import pytest

from resbackbones.engine.atomic import atomic_dir, atomic_path


def old_output(names):
    return set(names) <= {'old.txt'}


def test_replaces_the_folder_whole(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'old.txt').write_text('old')
    with atomic_dir(str(out), owns=old_output) as tmp:
        assert not (out / 'new.txt').exists()  # nothing visible while writing
        (tmp_path / tmp / 'new.txt').write_text('new')
    assert sorted(p.name for p in out.iterdir()) == ['new.txt']
    assert [p.name for p in tmp_path.iterdir()] == ['out']


def test_subfolders_are_kept(tmp_path):
    out = tmp_path / 'out'
    with atomic_dir(str(out)) as tmp:
        (tmp_path / tmp / 'part').mkdir()
        (tmp_path / tmp / 'part' / 'weights.bin').write_bytes(b'\x00\x01')
    assert (out / 'part' / 'weights.bin').read_bytes() == b'\x00\x01'


def test_failure_leaves_the_old_folder(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'old.txt').write_text('old')
    with pytest.raises(RuntimeError):
        with atomic_dir(str(out), owns=old_output) as tmp:
            (tmp_path / tmp / 'half.txt').write_text('half')
            raise RuntimeError('killed mid-write')
    assert (out / 'old.txt').read_text() == 'old' and [p.name for p in tmp_path.iterdir()] == ['out']


def test_a_file_in_the_way_is_named(tmp_path):
    (tmp_path / 'out').write_text('a file')
    with pytest.raises(NotADirectoryError, match='is a file; give a folder'):
        with atomic_dir(str(tmp_path / 'out')):
            pass


@pytest.mark.parametrize('owns', [None, old_output])
def test_a_folder_holding_other_files_is_refused_before_the_work(tmp_path, owns):
    """`--out .` in a project folder replaced the whole folder, its files gone (tools/deploy.py did so)."""
    out = tmp_path / 'project'
    (out / 'src').mkdir(parents=True)
    (out / 'notes.txt').write_text('mine')
    with pytest.raises(ValueError, match=r'project holds other files \(e.g. \[.notes.txt., .src.\]\); it would be '
                                         r'replaced as a whole'):
        with atomic_dir(str(out), **({} if owns is None else {'owns': owns})):
            raise AssertionError('the block must not run')
    assert (out / 'notes.txt').read_text() == 'mine' and sorted(os.listdir(tmp_path)) == ['project']


def test_a_file_above_the_folder_is_named(tmp_path):
    (tmp_path / 'afile').write_text('x')
    with pytest.raises(NotADirectoryError, match=r'afile is a file; give a folder'):
        with atomic_dir(str(tmp_path / 'afile' / 'sub')):
            pass


def test_outputs_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_dir(str(tmp_path / 'out')) as tmp:
            with atomic_path(os.path.join(tmp, 'model.pth')) as f:
                open(f, 'wb').close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / 'out').stat().st_mode) == 0o755  # mkdtemp gave 0o700: no one else could read
    assert stat.S_IMODE((tmp_path / 'out' / 'model.pth').stat().st_mode) == 0o644  # mkstemp gave 0o600
