"""write_video: the synthetic-video writer of tests, demos and benchmarks; bad input named, no half-written file."""
import numpy as np
import pytest

from resbackbones.transforms.video.decoder import decode_all
from resbackbones.transforms.video.writer import index_frames, write_video


@pytest.mark.parametrize('frames, kwargs, message', [
    # libx264 failed in FFmpeg ('Generic error in an external library')
    (lambda: index_frames(3, 33, 48), {}, r'libx264 in yuv420p needs an even width and height; the frames are 33x48'),
    # a bare IndexError from pts[count]
    (lambda: index_frames(3), dict(pts=[0, 100]), r'pts has 2 timestamps for more frames'),
    (lambda: index_frames(3), dict(pts=[0, 100, 200, 300]), r'pts has 4 timestamps for 3 frames'),
    (lambda: [np.zeros((32, 48, 3), np.uint8), np.zeros((16, 48, 3), np.uint8)], {},
     r'frame 1 is 16x48, the first 32x48'),
])
def test_bad_frames_are_named_and_an_existing_file_stays(tmp_path, frames, kwargs, message):
    path = tmp_path / 'clip.mp4'
    write_video(path, index_frames(4, 32, 48))
    before = path.read_bytes()
    with pytest.raises(ValueError, match=rf'write_video: {path}: {message}'):
        write_video(path, frames(), **kwargs)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ['clip.mp4']


def test_a_failing_encode_leaves_no_short_file(tmp_path):
    """Non-increasing pts failed in FFmpeg after two frames, and a playable 2-frame file stayed at the path."""
    path = tmp_path / 'clip.mkv'
    with pytest.raises(ValueError):  # FFmpeg's ArgumentError (a ValueError) names the timestamps
        write_video(path, index_frames(3, 32, 48), pts=[0, 200, 100])
    assert list(tmp_path.iterdir()) == []
    assert write_video(path, index_frames(3, 32, 48)) == 3 and len(decode_all(path)) == 3  # the same path writes
