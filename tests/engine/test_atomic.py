import os

import pytest
import torch

from resbackbones.engine.atomic import (atomic_path, ensure_writable_dir, latest_checkpoint, remove_stale_temporaries,
                                       save_figure)


def test_atomic_path_replaces_on_success(tmp_path):
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'old')
    with atomic_path(str(target)) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path) and tmp != str(target)
        torch.save({'w': torch.ones(2)}, tmp)
        assert target.read_bytes() == b'old'  # not visible until the block ends
    assert torch.equal(torch.load(target, weights_only=True)['w'], torch.ones(2))
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth']


def test_a_missing_folder_is_named_not_the_temporary_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=f'cannot write .*v0.mp4: its folder {tmp_path / "none"} does not'):
        with atomic_path(str(tmp_path / 'none' / 'v0.mp4'), keep_extension=True):
            pass


@pytest.mark.parametrize('exc', [RuntimeError, KeyboardInterrupt])
def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path, exc):
    target = tmp_path / 'epoch_1.pth'
    torch.save({'w': torch.zeros(2)}, target)
    with pytest.raises(exc):
        with atomic_path(str(target)) as tmp:
            with open(tmp, 'wb') as f:
                f.write(b'half a checkpo')
            raise exc('killed mid-write')
    assert torch.equal(torch.load(target, weights_only=True)['w'], torch.zeros(2))
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth']


def test_remove_stale_temporaries_only_touches_checkpoint_temporaries(tmp_path):
    (tmp_path / '.iter_4.pth.tmp-abc').write_bytes(b'x')
    (tmp_path / '.curves.png.tmp-abc').write_bytes(b'x')
    (tmp_path / 'iter_4.pth').write_bytes(b'x')
    assert remove_stale_temporaries(str(tmp_path)) == [str(tmp_path / '.iter_4.pth.tmp-abc')]
    assert sorted(os.listdir(tmp_path)) == ['.curves.png.tmp-abc', 'iter_4.pth']


@pytest.mark.parametrize('pointer, expected', [
    ('epoch_1.pth', 'epoch_1.pth'),   # a valid last_checkpoint wins even over a newer file
    ('', 'epoch_2.pth'),              # emptied by a kill while mmengine rewrote it: newest checkpoint
    ('epoch_9.pth', 'epoch_2.pth'),   # names a file that is gone (max_keep_ckpts): newest checkpoint
    (None, 'epoch_2.pth'),            # no pointer file at all
])
def test_latest_checkpoint(tmp_path, pointer, expected):
    for i, name in enumerate(['epoch_1.pth', 'epoch_2.pth', 'notes.pth']):
        (tmp_path / name).write_bytes(b'x')
        os.utime(tmp_path / name, (1000 + i, 1000 + i))
    if pointer is not None:
        (tmp_path / 'last_checkpoint').write_text(str(tmp_path / pointer) if pointer else '')
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / expected)


def test_latest_checkpoint_falls_back_on_the_highest_number_not_the_newest_file(tmp_path):
    # a copied or restored folder: epoch_10's time is older than epoch_9's (epoch_9 was chosen)
    for name, time in [('epoch_8.pth', 1003), ('epoch_9.pth', 1002), ('epoch_10.pth', 1001)]:
        (tmp_path / name).write_bytes(b'x')
        os.utime(tmp_path / name, (time, time))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_11.pth'))  # gone
    assert latest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')


def test_latest_checkpoint_none_when_nothing_to_resume(tmp_path):
    assert latest_checkpoint(str(tmp_path)) is None
    assert latest_checkpoint(str(tmp_path / 'missing')) is None


def test_save_figure_writes_a_png_and_closes_the_figure(tmp_path):
    plt = pytest.importorskip('matplotlib.pyplot')
    fig = plt.figure()
    path = save_figure(fig, str(tmp_path / 'new' / 'plot.png'))
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert not plt.fignum_exists(fig.number)


def test_save_figure_keeps_the_old_picture_when_drawing_fails(tmp_path, monkeypatch):
    plt = pytest.importorskip('matplotlib.pyplot')
    target = tmp_path / 'plot.png'
    target.write_bytes(b'old')
    fig = plt.figure()

    def failing_savefig(*args, **kwargs):
        raise RuntimeError('draw failed')

    monkeypatch.setattr(fig, 'savefig', failing_savefig)
    with pytest.raises(RuntimeError, match='draw failed'):
        save_figure(fig, str(target))
    assert target.read_bytes() == b'old' and os.listdir(tmp_path) == ['plot.png']
    assert not plt.fignum_exists(fig.number)


def test_ensure_writable_dir_creates_the_folder_or_names_why_not(tmp_path, monkeypatch):
    ensure_writable_dir(str(tmp_path / 'a' / 'b'))
    assert (tmp_path / 'a' / 'b').is_dir()
    (tmp_path / 'file').write_text('x')
    with pytest.raises(ValueError, match=f'work_dir {tmp_path}/file/w cannot be created: Not a directory'):
        ensure_writable_dir(str(tmp_path / 'file' / 'w'))
    monkeypatch.setattr(os, 'access', lambda path, mode: False)  # a read-only folder (root may write anywhere)
    with pytest.raises(ValueError, match=f'--out {tmp_path} is not writable by this user'):
        ensure_writable_dir(str(tmp_path), '--out')
