"""Read chosen frames of a video with PyAV, decoding only what they need, never the whole video into memory.

Frame ``i`` is the i-th frame a full decode would return (presentation order). Opening a file demuxes its packets
once, without decoding, to list every frame's timestamp and the keyframes; reading then seeks to the keyframe
before each wanted frame and decodes forward to it, so the cost grows with the clip, not the video, and memory stays
flat however long the video is. Timestamps, not the container's frame rate, locate frames: variable frame rate
streams give the same frames as a full decode. A frame count in the header is not trusted (it can lie); the packets
are counted. Rotation metadata (phones) is applied, so frames come out upright as players show them.
"""
from __future__ import annotations

import bisect
import os
from typing import Sequence

import numpy as np

from ..loading import CorruptImageError


class CorruptVideoError(CorruptImageError):
    """A video file exists but cannot be read (or lacks a frame asked for); ``path`` names it (datasets may skip)."""

    def __init__(self, path: str, reason: str):
        ValueError.__init__(self, f'cannot read video {path}: {reason}')
        self.path = path


def _av():
    try:
        import av
    except ImportError as err:  # pragma: no cover - av is a dependency
        raise ImportError('reading videos needs PyAV: pip install av') from err
    return av


class VideoReader:
    """An open video: ``total_frames``, ``avg_fps``, and ``read(indices)`` -> (len(indices), H, W, 3) uint8 RGB.

    Args:
        path: the video file. threads: decoder threads (0 lets FFmpeg choose; 1 suits data-loader workers).

    Use as a context manager or call ``close``. Errors: FileNotFoundError for a missing path, CorruptVideoError
    when the container or a wanted frame cannot be decoded (the message names the file and the frame).
    """

    def __init__(self, path: str, threads: int = 1):
        av = _av()
        self.path = str(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f'video file not found: {self.path}')
        try:
            self._container = av.open(self.path, metadata_errors='ignore')
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as err:
            raise CorruptVideoError(self.path, f'{type(err).__name__}: {err}') from err
        try:
            if not self._container.streams.video:
                raise CorruptVideoError(self.path, 'it has no video stream')
            self._stream = self._container.streams.video[0]
            self._stream.thread_count = threads
            self._index_packets(av)
        except BaseException:
            self._container.close()
            raise

    def _index_packets(self, av) -> None:
        """Every frame's pts (sorted = presentation order) and the keyframes' pts, from packets only."""
        pts, keys = [], []
        try:
            for packet in self._container.demux(self._stream):
                if packet.size == 0 or packet.is_discard:  # the flush packet; frames an edit list cuts
                    continue
                stamp = packet.pts if packet.pts is not None else packet.dts
                if stamp is None:
                    raise CorruptVideoError(self.path, 'a packet has no timestamp, so frames cannot be located')
                pts.append(stamp)
                if packet.is_keyframe:
                    keys.append(stamp)
        except av.FFmpegError as err:
            if not pts:  # a tail that cannot be demuxed still leaves the frames before it readable
                raise CorruptVideoError(self.path, f'{type(err).__name__}: {err}') from err
        if not pts:
            raise CorruptVideoError(self.path, 'it has no frames')
        self._pts = sorted(pts)
        self._keys = sorted(keys) or self._pts[:1]
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.avg_fps = float(rate) if rate else 0.0

    @property
    def total_frames(self) -> int:
        """Frames that exist (counted from packets; the header's count is not used)."""
        return len(self._pts)

    def read(self, indices: Sequence[int]) -> np.ndarray:
        """Frames ``indices`` (any order, repeats allowed) as an (N, H, W, 3) uint8 RGB array, upright."""
        indices = [int(i) for i in indices]
        bad = [i for i in indices if not 0 <= i < self.total_frames]
        if bad:
            raise IndexError(f'{self.path}: frame indices {bad[:5]} are outside 0..{self.total_frames - 1}')
        wanted = {self._pts[i]: None for i in sorted(set(indices))}
        self._decode_into(wanted)
        frames = [wanted[self._pts[i]] for i in indices]
        return np.stack(frames) if frames else np.zeros((0, 0, 0, 3), np.uint8)

    def _decode_into(self, wanted: dict) -> None:
        """Fill ``wanted`` (pts -> frame) by seeking to keyframes and decoding forward, in timestamp order."""
        av, stream, last = _av(), self._stream, None
        frames = None
        for target in wanted:
            if wanted[target] is not None:
                continue
            key = self._keys[max(bisect.bisect_right(self._keys, target) - 1, 0)]
            if frames is None or last is None or last >= target or key > last:
                self._container.seek(key, stream=stream, backward=True, any_frame=False)
                frames = self._container.decode(stream)
            try:
                for frame in frames:
                    last = frame.pts
                    if last in wanted and wanted[last] is None:
                        wanted[last] = self._to_rgb(frame)
                    if last is not None and last >= target:
                        break
            except av.FFmpegError as err:
                raise CorruptVideoError(self.path, f'decoding frame {self._pts.index(target)} failed: '
                                                   f'{type(err).__name__}: {err}') from err
            if wanted[target] is None:
                raise CorruptVideoError(self.path, f'frame {self._pts.index(target)} of {self.total_frames} '
                                                   f'(pts {target}) is listed but could not be decoded (truncated '
                                                   f'or corrupt file)')

    @staticmethod
    def _to_rgb(frame) -> np.ndarray:
        rgb = frame.to_ndarray(format='rgb24')
        turns = round((frame.rotation or 0) / 90) % 4  # counterclockwise quarter turns the display matrix asks for
        return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> 'VideoReader':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def decode_all(path: str) -> np.ndarray:
    """Every frame by a plain full decode (the reference ``VideoReader`` must agree with; tests and benchmarks)."""
    av = _av()
    with av.open(str(path)) as container:
        return np.stack([VideoReader._to_rgb(f) for f in container.decode(video=0)])
