"""Read chosen frames of a video with PyAV, decoding only what they need, never the whole video into memory.

Frame ``i`` is the i-th frame a full decode returns (presentation order). Opening a file demuxes its packets once,
without decoding, to count the frames and find the keyframes; reading seeks to a keyframe before each wanted frame
and decodes forward, so the cost grows with the clip, not the video, and memory stays flat. A frame count in the
header is not trusted (it can lie); the packets are counted. Rotation metadata (phones) is applied.

How a decoded frame is matched to its index depends on the container:

- mp4 / mov / mkv / webm / MPEG-TS store presentation timestamps: frame ``i`` has the i-th smallest pts, so
  variable frame rate streams give the same frames as a full decode.
- AVI stores none (FFmpeg invents pts in decode order, wrong with B-frames), so frames are told apart by their
  packet's position in decode order, which the reader writes into each packet's pts before decoding; a keyframe's
  index is its position plus its leading frames (open GOPs: B-frames after it that show before it), counted once
  by decoding from the keyframe before it.

Seeks are checked, not trusted: demuxers seek by dts (AVI, TS, mp4) or pts (Matroska) and may land before, after or
(TS) beside a keyframe, so the landing packet is looked up, packets before the keyframe are dropped, a late landing
is retried and finally the file is reopened. A keyframe whose decoded frame is not a keyframe, or does not come out
where expected (a wrong flag in the index), is dropped and an earlier one is used. A file cut inside a group of
B-frames lists only the frames before the gap its missing frames leave, so no index shifts.
"""
from __future__ import annotations

import bisect
import itertools
import math
import os
from typing import Iterator, Sequence

import numpy as np

from ..loading import CorruptImageError

MAX_LEADING = 16  # frames a decoder may put out before the keyframe it started at (H.264's largest reorder depth)


class CorruptVideoError(CorruptImageError):
    """A video file exists but cannot be read (or lacks a frame asked for); ``path`` names it (datasets may skip)."""

    def __init__(self, path: str, reason: str):
        ValueError.__init__(self, f'cannot read video {path}: {reason}')
        self.path = path


class VideoNotFoundError(CorruptVideoError, FileNotFoundError):
    """A missing video: a FileNotFoundError that datasets with ``on_invalid='skip'`` skip like a corrupt file."""

    def __init__(self, path: str):
        ValueError.__init__(self, f'video file not found: {path}')
        self.path = path


class _BadKeyframe(Exception):
    """The packet at decode position ``position`` is flagged a keyframe but does not decode as one."""

    def __init__(self, position: int):
        super().__init__(position)
        self.position = position


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

    Use as a context manager or call ``close``. Errors: ``VideoNotFoundError`` (a FileNotFoundError and a
    CorruptVideoError) for a missing path, CorruptVideoError for a directory, or when the container or a wanted
    frame cannot be decoded (the message names the file and the frame). ``frames_decoded`` counts the frames the
    decoder returned (seeking keeps it near the number asked for).
    """

    def __init__(self, path: str, threads: int = 1):
        self.path, self.threads = str(path), threads
        if os.path.isdir(self.path):
            raise CorruptVideoError(self.path, 'it is a directory, not a video file')
        if not os.path.isfile(self.path):
            raise VideoNotFoundError(self.path)
        self.frames_decoded, self._seeks, self._container, self._dts_first = 0, 0, None, False
        self._open()
        try:
            self._by_order = self._container.format.name == 'avi'  # no presentation timestamps in AVI
            self._index_packets()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        av = _av()
        if self._container is not None:
            self._container.close()
        try:
            self._container = av.open(self.path, metadata_errors='ignore')
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as err:
            raise CorruptVideoError(self.path, f'{type(err).__name__}: {err}') from err
        if not self._container.streams.video:
            self.close()
            raise CorruptVideoError(self.path, 'it has no video stream')
        self._stream = self._container.streams.video[0]
        self._stream.thread_count = self.threads

    def _stamp(self, packet) -> int | None:
        """What identifies a packet: its dts in AVI (the pts there is invented), else its pts."""
        return packet.dts if self._by_order or packet.pts is None else packet.pts

    @staticmethod
    def _is_frame(packet) -> bool:
        return packet.size > 0 and not packet.is_discard  # not the flush packet, not a frame an edit list cuts

    def _index_packets(self) -> None:
        """Every frame packet's stamp in decode order, the keyframes' positions and seek timestamps."""
        av = _av()
        stamps, seek_ts, dts, self._preroll, first_is_key = [], {}, None, False, False
        try:
            for packet in self._container.demux(self._stream):
                if not self._is_frame(packet):
                    self._preroll |= packet.size > 0 and not stamps  # cut by an edit list, yet decoded first
                    continue
                if self._stamp(packet) is None:
                    raise CorruptVideoError(self.path, 'a packet has no timestamp, so frames cannot be located')
                first_is_key |= packet.is_keyframe and not stamps
                if packet.is_keyframe or not stamps:  # position 0 is where a full decode starts, keyframe or not
                    seek_ts[len(stamps)] = [packet.dts] if self._by_order else [
                        t for t in dict.fromkeys((packet.pts, packet.dts)) if t is not None]
                stamps.append(self._stamp(packet))
                dts = packet.dts if packet.dts is not None else dts
        except av.FFmpegError as err:
            if not stamps:  # a tail that cannot be demuxed still leaves the frames before it readable
                raise CorruptVideoError(self.path, f'{type(err).__name__}: {err}') from err
        if not stamps:
            raise CorruptVideoError(self.path, 'it has no frames')
        self._pos = {stamp: i for i, stamp in enumerate(stamps)}
        if len(self._pos) < len(stamps):
            raise CorruptVideoError(self.path, 'two frames share a timestamp, so frames cannot be located')
        self._stamps, self._seek_ts, self._anchors = stamps, seek_ts, {0: 0}
        keys = [k for k in seek_ts if k > 0]
        lost = set() if self._by_order or first_is_key or not keys else self._undecodable_lead(stamps[:keys[0]],
                                                                                                keys[0])
        # frame indices count the frames a full decode gives: a lead it drops would shift every index after it
        self._sorted = sorted(s for s in stamps if s not in lost)
        # a container that counts exactly the frames demuxed (mp4's sample table) vouches that none is missing, so a
        # variable frame rate's pause near the end is not taken for frames cut off
        complete = self._by_order or self._stream.frames == len(stamps)
        self.total_frames = len(stamps) if complete else self._complete_frames(dts)
        # (the lowest index a decode from it starts at, its decode position); AVI's exact index comes from decoding
        self._keys = sorted((k if self._by_order or k == 0 else self._rank(stamps[k]), k) for k in seek_ts)
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.avg_fps = float(rate) if rate else 0.0

    def _undecodable_lead(self, lead: Sequence[int], first_key: int) -> set[int]:
        """Stamps of ``lead`` (the frames before the first keyframe, in decode order) that a full decode does not
        give: a file cut inside a group of frames (an MPEG-TS split at any packet) starts with frames whose
        references are gone, and decoders drop them. Found by decoding the file's start, MAX_LEADING frames past
        the keyframe (as far as a decoder may hold a frame back)."""
        av, shown = _av(), set()
        with av.open(self.path, metadata_errors='ignore') as container:
            stream = container.streams.video[0]
            stream.thread_count = self.threads
            position = 0
            for packet in container.demux(stream):
                position += self._is_frame(packet)
                try:
                    shown.update(frame.pts for frame in packet.decode())
                except av.FFmpegError:
                    continue  # an undecodable frame: it stays out of `shown`
                if position > first_key + MAX_LEADING:
                    break
        return set(lead) - shown

    def _complete_frames(self, last_dts: int | None) -> int:
        """Frames up to the first gap among the last ones: a file cut inside a group of B-frames lacks frames that
        show before frames it has, which would shift every index after the gap. Only frames shown after the last
        packet's dts can be missing (a later packet has a larger dts and pts >= dts); a gap is a step of over 1.5
        times the usual frame step there."""
        pts = self._sorted
        if last_dts is None or len(pts) < 3:
            return len(pts)
        steps = np.diff(pts)
        usual = float(np.median(steps))
        for i in range(max(bisect.bisect_right(pts, last_dts) - 1, 0), len(steps)):
            if steps[i] > 1.5 * usual:
                return i + 1
        return len(pts)

    def _rank(self, stamp: int | None) -> int | None:
        """Presentation index of a pts (mp4, mkv, TS ...), None if no listed frame has it."""
        i = bisect.bisect_left(self._sorted, stamp) if stamp is not None else len(self._sorted)
        return i if i < len(self._sorted) and self._sorted[i] == stamp else None

    def read(self, indices: Sequence[int]) -> np.ndarray:
        """Frames ``indices`` (any order, repeats allowed) as an (N, H, W, 3) uint8 RGB array, upright."""
        indices = [int(i) for i in indices]
        bad = [i for i in indices if not 0 <= i < self.total_frames]
        if bad:
            raise IndexError(f'{self.path}: frame indices {bad[:5]} are outside 0..{self.total_frames - 1}')
        wanted = dict.fromkeys(sorted(set(indices)))
        self._decode_into(wanted)
        frames = [wanted[i] for i in indices]
        sizes = {f.shape for f in frames}
        if len(sizes) > 1:  # a stream whose resolution changes (joined files): no one clip array holds them
            raise CorruptVideoError(self.path, f'frames {indices[:8]} differ in size '
                                               f'{sorted((h, w) for h, w, _ in sizes)} (HxW); a clip needs one size')
        return np.stack(frames) if frames else np.zeros((0, 0, 0, 3), np.uint8)

    def _decode_into(self, wanted: dict) -> None:
        """Fill ``wanted`` (index -> frame) in index order, seeking only when no decode under way gets there first."""
        av, frames, last, seeks = _av(), None, -1, -1
        for target in wanted:
            while wanted[target] is None:
                try:
                    fresh = frames is None or seeks != self._seeks or last >= target or self._seek_point(target) > last
                    if fresh:  # a seek starts after the last frame decoded: cheaper than decoding on
                        frames, last = self._frames_from(self._keyframe_for(target)), -1
                        seeks = self._seeks
                    for index, frame in frames:
                        last = index
                        if index in wanted and wanted[index] is None:
                            if frame.is_corrupt:  # FFmpeg concealed missing data: a damaged picture, not the frame
                                raise CorruptVideoError(self.path, f'frame {index} decodes damaged (FFmpeg marks it '
                                                                   f'corrupt: a truncated or corrupt file)')
                            wanted[index] = self._to_rgb(frame)
                        if index >= target:
                            break
                    else:
                        frames = None
                except _BadKeyframe as bad:
                    self._keys = [k for k in self._keys if k[1] != bad.position]
                    frames = None
                    continue
                except av.FFmpegError as err:
                    raise CorruptVideoError(self.path, f'decoding frame {target} failed: '
                                                       f'{type(err).__name__}: {err}') from err
                if wanted[target] is None and fresh:
                    raise CorruptVideoError(self.path, f'frame {target} of {self.total_frames} is listed but could '
                                                       f'not be decoded (truncated or corrupt file)')

    def _seek_point(self, target: int) -> int:
        """Index a seek for ``target`` decodes from (an AVI keyframe not yet placed: the keyframe before it)."""
        j = bisect.bisect_right(self._keys, (target, math.inf)) - 1
        if self._by_order and self._keys[j][1] not in self._anchors:
            j -= 1
        return self._keys[j][0]

    def _keyframe_for(self, target: int) -> int:
        """Decode position of the last usable keyframe whose frame index is <= target (0: the file's start)."""
        for j in range(bisect.bisect_right(self._keys, (target, math.inf)) - 1, -1, -1):
            if self._start(self._keys[j][1]) <= target:
                return self._keys[j][1]
        return 0

    def _start(self, key: int) -> int:
        """Index of the first frame a decode from keyframe ``key`` gives (AVI: may decode to find it out)."""
        if not self._by_order:
            return 0 if key == 0 else self._rank(self._stamps[key])
        if key not in self._anchors:
            self._anchors[key] = key + self._count_leading(key)
        return self._anchors[key]

    def _count_leading(self, key: int) -> int:
        """AVI: frames decoded after keyframe ``key`` that show before it, counted while decoding from the keyframe
        before it (where they are decodable; straight after a seek to ``key`` they are dropped or damaged)."""
        before = max(k for _, k in self._keys if k < key)
        leading, seen = 0, before == 0
        for n, frame in enumerate(self._decode(before)):
            if not seen:  # skip the earlier keyframe's own leading frames, which come out before it
                seen = self._check_key(frame, before, n)
            elif frame.pts == key or n > key - before + MAX_LEADING:
                self._check_key(frame, key, MAX_LEADING)  # it, or it is too late: _BadKeyframe
                return leading
            else:
                leading += frame.pts > key
        raise _BadKeyframe(before if not seen else key)

    @staticmethod
    def _is_key(frame) -> bool:
        return frame.key_frame or frame.pict_type == _av().video.frame.PictureType.I

    def _check_key(self, frame, key: int, n: int) -> bool:
        """AVI: True once ``frame`` (n-th out) is keyframe ``key``; _BadKeyframe if it is no keyframe or late."""
        if frame.pts == key:
            if self._is_key(frame):
                return True
            raise _BadKeyframe(key)
        if n >= MAX_LEADING:
            raise _BadKeyframe(key)
        return False

    def _frames_from(self, key: int) -> Iterator:
        """(index, frame) in index order from keyframe ``key``'s frame on (its leading frames left out)."""
        frames = self._decode(key)
        if self._by_order:
            return self._order_from(frames, key)
        return self._pts_from(frames, None if key == 0 else key)  # from the file's start: the full decode

    def _order_from(self, frames: Iterator, key: int) -> Iterator:
        """AVI: frames from keyframe ``key`` on are consecutive from its index (those before it are leading);
        keyframes passed on the way are placed for free. From the file's start (key 0) this is the full decode."""
        index = -1 if key == 0 else None
        for n, frame in enumerate(frames):
            if index is None and not self._check_key(frame, key, n):
                continue
            index = self._anchors[key] if index is None else index + 1
            if frame.pts in self._seek_ts:
                self._anchors.setdefault(frame.pts, index)
            yield index, frame
        if index is None:
            raise _BadKeyframe(key)

    def _pts_from(self, frames: Iterator, key: int | None) -> Iterator:
        """(index, frame) by pts; after a seek to keyframe ``key`` the first frame at or after its index must be it."""
        first = None if key is None else self._rank(self._stamps[key])
        for frame in frames:
            index = self._rank(frame.pts)
            if index is None or (first is not None and index < first):
                continue  # no listed pts, or a leading frame of the keyframe (undecodable after a seek)
            if first is not None:
                if index > first or not self._is_key(frame):
                    raise _BadKeyframe(key)
                first = None
            if index < self.total_frames:
                yield index, frame
        if first is not None:
            raise _BadKeyframe(key)

    def _decode(self, key: int) -> Iterator:
        """Frames decoded from decode position ``key`` on (seeking now, not on the first ``next``)."""
        return self._decoded(self._packets_from(key), key)

    def _decoded(self, packets: Iterator, position: int) -> Iterator:
        """AVI packets get their decode position as pts, which the decoder hands on to their frames."""
        for packet in packets:
            if self._is_frame(packet):
                if self._by_order:
                    packet.pts = position
                position += 1
            for frame in packet.decode():
                self.frames_decoded += 1
                yield frame

    def _packets_from(self, key: int) -> Iterator:
        """The stream's packets from decode position ``key`` on: seek, find where the demuxer landed, drop what comes
        before ``key``; if it landed after ``key`` try the other timestamp, then reopen the file."""
        av = _av()
        self._seeks += 1
        if not (key == 0 and self._preroll):
            for stamp in self._seek_ts[key][::-1] if self._dts_first else self._seek_ts[key]:
                try:
                    self._container.seek(stamp, stream=self._stream, backward=True, any_frame=False)
                except av.FFmpegError:
                    continue
                packets = self._skip_to(key, self._container.demux(self._stream), None)
                if packets is not None:
                    self._dts_first = self._seek_ts[key][1:2] == [stamp]  # MPEG-TS: a seek by pts lands late
                    return packets
        self._open()
        packets = self._container.demux(self._stream)
        return packets if key == 0 else self._skip_to(key, packets, 0) or iter(())

    def _skip_to(self, key: int, packets: Iterator, position: int | None) -> Iterator | None:
        for packet in packets:
            if not self._is_frame(packet):
                if packet.size == 0:
                    return None
                continue
            if position is None:
                position = self._pos.get(self._stamp(packet))
                if position is None or position > key:
                    return None
            if position == key:
                return itertools.chain([packet], packets) if self._stamp(packet) == self._stamps[key] else None
            position += 1
        return None

    @staticmethod
    def _to_rgb(frame) -> np.ndarray:
        rgb = frame.to_ndarray(format='rgb24')
        turns = round((frame.rotation or 0) / 90) % 4  # counterclockwise quarter turns the display matrix asks for
        return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb

    def close(self) -> None:
        if self._container is not None:
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
