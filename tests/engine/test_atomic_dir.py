"""atomic_dir: a folder replaced whole on success, untouched (and no temporaries left) on failure."""
import pytest

from resbackbones.engine.atomic import atomic_dir


def test_replaces_the_folder_whole(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'old.txt').write_text('old')
    with atomic_dir(str(out)) as tmp:
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
        with atomic_dir(str(out)) as tmp:
            (tmp_path / tmp / 'half.txt').write_text('half')
            raise RuntimeError('killed mid-write')
    assert (out / 'old.txt').read_text() == 'old' and [p.name for p in tmp_path.iterdir()] == ['out']


def test_a_file_in_the_way_is_named(tmp_path):
    (tmp_path / 'out').write_text('a file')
    with pytest.raises(NotADirectoryError, match='is a file; give a folder'):
        with atomic_dir(str(tmp_path / 'out')):
            pass
