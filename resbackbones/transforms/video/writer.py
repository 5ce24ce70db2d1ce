"""Write frames to a video file with PyAV: synthetic clips for tests, demos and benchmarks (streamed frame by frame,
so long videos need little memory)."""
from __future__ import annotations

from fractions import Fraction
from typing import Iterable, Sequence

import numpy as np

from ...engine.atomic import atomic_path
from .decoder import _av

EVEN_SIZED = ('libx264', 'libx265', 'libopenh264')  # encoders that refuse odd yuv420p sizes


def write_video(path: str, frames: Iterable[np.ndarray], fps: float = 25, codec: str = 'libx264', gop: int = 12,
                pts: Sequence[int] | None = None, options: dict | None = None,
                container_options: dict | None = None) -> int:
    """Encode (H, W, 3) uint8 RGB ``frames`` (any iterable: a generator keeps memory flat) into ``path``.

    Args:
        fps: nominal rate; the time base is 1/(fps * 100) so that ``pts`` can place frames unevenly.
        codec: an FFmpeg encoder PyAV bundles ('libx264' makes B-frames, 'mpeg4' ...). gop: keyframe interval.
        pts: optional timestamps in that time base, one per frame (variable frame rate when uneven).
        options: extra encoder options (e.g. {'bf': '0'} for no B-frames).
        container_options: muxer options (e.g. {'movflags': 'faststart'}: the index before the data).
    Returns the number of frames written. The file appears whole or not at all (written beside, then renamed):
    a ValueError for frames of odd size, of another size than the first, or more frames than ``pts`` leaves
    ``path`` as it was.
    """
    with atomic_path(str(path), keep_extension=True) as tmp:
        return _write(tmp, str(path), frames, fps, codec, gop, pts, options, container_options)


def _write(tmp: str, path: str, frames: Iterable[np.ndarray], fps: float, codec: str, gop: int,
           pts: Sequence[int] | None, options: dict | None, container_options: dict | None) -> int:
    av = _av()
    rate = Fraction(fps).limit_denominator(1001)
    count = 0
    with av.open(tmp, 'w', options=container_options or {}) as container:
        stream = None
        for frame in frames:
            if stream is None:
                h, w = frame.shape[:2]
                if (h % 2 or w % 2) and codec in EVEN_SIZED:  # yuv420p halves both sides for colour
                    raise ValueError(f'write_video: {path}: {codec} in yuv420p needs an even width and height; the '
                                     f'frames are {h}x{w} (HxW)')
                stream = container.add_stream(codec, rate=rate)
                stream.width, stream.height, stream.pix_fmt = w, h, 'yuv420p'
                stream.codec_context.time_base = 1 / (rate * 100)
                stream.options = {'g': str(gop), **(options or {})}
            if frame.shape[:2] != (h, w):
                raise ValueError(f'write_video: {path}: frame {count} is {frame.shape[0]}x{frame.shape[1]}, the '
                                 f'first {h}x{w} (HxW); a stream has one size')
            if pts is not None and count >= len(pts):
                raise ValueError(f'write_video: {path}: pts has {len(pts)} timestamps for more frames; give one per '
                                 'frame')
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format='rgb24')
            video_frame.pts = pts[count] if pts is not None else count * 100
            video_frame.time_base = stream.codec_context.time_base
            container.mux(stream.encode(video_frame))
            count += 1
        if stream is None:
            raise ValueError(f'write_video: no frames given for {path}')
        container.mux(stream.encode())
    if pts is not None and count != len(pts):
        raise ValueError(f'write_video: {path}: pts has {len(pts)} timestamps for {count} frames; give one per frame')
    return count


def index_frames(num: int, height: int = 48, width: int = 64, seed: int = 0) -> Iterable[np.ndarray]:
    """``num`` frames that differ from each other: a moving textured pattern (so codecs use motion, B-frames)."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (height * 2, width * 2, 3), dtype=np.uint8)
    for i in range(num):
        dy, dx = (i * 3) % height, (i * 5) % width
        yield texture[dy:dy + height, dx:dx + width]
