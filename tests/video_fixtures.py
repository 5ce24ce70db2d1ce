"""Videos for the video tests: synthesised with PyAV (tiny), and the real clips of tools/data/fetch_data.py videos.

A test module imports this after ``sys.path.insert(0, tests/)`` and re-exports ``videos`` as a fixture."""
from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np

from resbackbones.transforms.video.writer import index_frames, write_video

REAL_VIDEOS = Path(__file__).resolve().parents[1] / 'data' / 'videos'


def rotate_mp4(src: Path, dst: Path) -> Path:
    """Copy of an mp4 whose track header asks players to turn it 90 degrees clockwise (as phones record)."""
    data = bytearray(src.read_bytes())
    at = data.find(b'tkhd')
    if at < 0 or data[at + 4] != 0:
        raise ValueError(f'{src}: expected a version-0 tkhd box')
    matrix = at + 44  # type, version/flags, 5 x 32-bit fields, 8 reserved, layer/group/volume/reserved
    data[matrix:matrix + 36] = struct.pack('>9i', 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    dst.write_bytes(bytes(data))
    return dst


def make_videos(root: Path) -> dict[str, Path]:
    """Synthetic videos by kind: B-frames, no B-frames, mpeg4, variable frame rate, faststart (index first)."""
    vfr = [0, 100, 150, 400, 410, 420, 800, 900, 1000, 1500] + [1600 + 37 * i for i in range(30)]
    specs = {'bframes': dict(gop=7), 'no_bframes': dict(gop=5, options={'bf': '0'}), 'mpeg4': dict(codec='mpeg4'),
             'vfr': dict(gop=7, pts=vfr), 'faststart': dict(gop=7, container_options={'movflags': 'faststart'})}
    out = {}
    for name, kwargs in specs.items():
        out[name] = root / f'{name}.mp4'
        write_video(out[name], index_frames(40, 48, 64), **kwargs)
    return out


def write_labelled_videos(root: Path, test_list: str = 'test.txt') -> Path:
    """Four 12-frame 64x64 videos under ``root`` (labels 0, 1, 0, 1) and mmaction2 lists: train.txt names all four,
    ``test_list`` the first two. Returns ``root``."""
    lines = []
    for i in range(4):
        write_video(root / f'v{i}.mp4', index_frames(12, 64, 64, seed=i))
        lines.append(f'v{i}.mp4 {i % 2}')
    (root / 'train.txt').write_text('\n'.join(lines) + '\n')
    (root / test_list).write_text('\n'.join(lines[:2]) + '\n')
    return root


def write_tone_mp4(path: Path, seconds: float = 1.0, tone_hz: float = 440.0, with_audio: bool = True) -> Path:
    """An mp4 with 8 fps grey frames and, optionally, an AAC tone at 22.05 kHz."""
    with av.open(str(path), 'w') as out:
        video = out.add_stream('mpeg4', rate=8)
        video.width, video.height, video.pix_fmt = 32, 32, 'yuv420p'
        audio = out.add_stream('aac', rate=22050) if with_audio else None
        for i in range(int(8 * seconds)):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 16 * i % 256, np.uint8), format='rgb24')
            for packet in video.encode(frame):
                out.mux(packet)
        if audio is not None:
            t = np.arange(int(22050 * seconds)) / 22050
            samples = (0.5 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
            for start in range(0, len(samples), 1024):
                chunk = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format='fltp', layout='mono')
                chunk.sample_rate = 22050
                for packet in audio.encode(chunk):
                    out.mux(packet)
            for packet in audio.encode(None):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return path
