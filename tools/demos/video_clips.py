"""Labelled 8-frame clips cut from the real videos of `fetch_data.py videos`, as mmaction2 video lists.

    python tools/demos/video_clips.py [--data-root data] [--force]

No action labels exist offline, so the labels come from time itself:
- speed: 0 = frames s, s+1, ..., s+7 (1x); 1 = frames s, s+4, ..., s+28 (4x playback). Both classes start at the
  same positions s, so a single frame says nothing about the class; only motion between frames does.
- direction: 0 = frames s, s+2, ..., s+14 (forward); 1 = the same frames reversed.
Two splits per task: 'time' (every video: clips inside its first 70% train, inside its last 25% test, a 5% gap) and
'video' (train and test videos share nothing; carphone_pristine and its compressed copy carphone_distorted stay
together). Frames are resized to a short side of 64 (centre 96 columns at most) and written losslessly (x264
qp 0), so a clip's frames do not depend on their neighbours' compression. Output: data/video_demo/clips/*.mp4 and
data/video_demo/{speed,direction}_{time,video}_{train,test}.txt (`clips/name.mp4 LABEL`), written once (atomic).
"""
from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from resbackbones.transforms.video import VideoReader  # noqa: E402
from resbackbones.transforms.video.writer import write_video  # noqa: E402

VIDEOS = ('bigbuckbunny', 'bikes', 'carphone_pristine', 'carphone_distorted', 'WolfgangLanger_Pexels',
          'single_face', 'no_face')
TEST_VIDEOS = ('bikes', 'carphone_pristine', 'carphone_distorted')  # the video-disjoint split's held-out side
TASKS = {'speed': ((1, False), (4, False)), 'direction': ((2, False), (2, True))}  # label -> (stride, reversed)
CLIP_LEN, SHORT_SIDE, MAX_WIDTH = 8, 64, 96
WINDOWS = {'train': (0.0, 0.70), 'test': (0.75, 1.0)}
MAX_STARTS = {'train': 40, 'test': 12}  # per video and label, evenly spaced (long videos must not dominate)
VERSION = 2


def small_frames(path: Path) -> np.ndarray:
    """Every frame of ``path``, short side 64, centre 96 columns at most, read in chunks (flat memory)."""
    out = []
    with VideoReader(str(path)) as reader:
        for first in range(0, reader.total_frames, 32):
            for frame in reader.read(range(first, min(first + 32, reader.total_frames))):
                h, w = frame.shape[:2]
                scale = SHORT_SIDE / min(h, w)
                frame = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
                left = max(0, (frame.shape[1] - MAX_WIDTH) // 2)
                out.append(frame[:, left:left + MAX_WIDTH] if frame.shape[1] >= frame.shape[0] else
                           frame[max(0, (frame.shape[0] - MAX_WIDTH) // 2):][:MAX_WIDTH])
    return np.stack(out)


def starts(first: int, end: int, span: int, limit: int) -> list[int]:
    """Up to ``limit`` evenly spaced clip starts with the whole span inside [first, end)."""
    last = end - span
    if last < first:
        return []
    return sorted({int(round(s)) for s in np.linspace(first, last, min(limit, last - first + 1))})


def clip_plan(num_frames: int, task: str, split: str, part: str, video: str) -> list[tuple[int, list[int], int]]:
    """(start, frame indices, label) of every clip of one video for one task, split and part."""
    if split == 'video':
        if (video in TEST_VIDEOS) != (part == 'test'):
            return []
        lo, hi = 0, num_frames
    else:
        lo, hi = (math.ceil(num_frames * f) for f in WINDOWS[part])  # frames [lo, hi): inside the fractions
    span = max((CLIP_LEN - 1) * stride + 1 for stride, _ in TASKS[task])
    plan = []
    for s in starts(lo, hi, span, MAX_STARTS[part]):
        for label, (stride, backwards) in enumerate(TASKS[task]):
            inds = list(range(s, s + CLIP_LEN * stride, stride))
            plan.append((s, inds[::-1] if backwards else inds, label))
    return plan


def build(root: Path, force: bool = False) -> Path:
    """Write the clips and lists under ``root/video_demo`` (once); returns that folder."""
    target = root / 'video_demo'
    manifest = dict(version=VERSION, videos=list(VIDEOS), clip_len=CLIP_LEN, short_side=SHORT_SIDE)
    if (target / 'manifest.json').is_file() and not force:
        if json.loads((target / 'manifest.json').read_text()) == manifest:
            return target
    missing = [v for v in VIDEOS if not (root / 'videos' / f'{v}.mp4').is_file()]
    if missing:
        raise FileNotFoundError(f'{root / "videos"} lacks {missing}: run python tools/data/fetch_data.py videos')
    tmp = Path(tempfile.mkdtemp(prefix='.video_demo.tmp-', dir=root))
    try:
        (tmp / 'clips').mkdir()
        lists: dict[str, list[str]] = {}
        for video in VIDEOS:
            frames = small_frames(root / 'videos' / f'{video}.mp4')
            for task in TASKS:
                for split in ('time', 'video'):
                    for part in ('train', 'test'):
                        for start, inds, label in clip_plan(len(frames), task, split, part, video):
                            name = f'clips/{video}_{task}_{start:03d}_{label}.mp4'
                            if not (tmp / name).exists():
                                write_video(tmp / name, frames[inds], fps=25, options={'qp': '0'})
                            lists.setdefault(f'{task}_{split}_{part}', []).append(f'{name} {label}')
        for name, lines in lists.items():
            (tmp / f'{name}.txt').write_text('\n'.join(lines) + '\n')
        (tmp / 'manifest.json').write_text(json.dumps(manifest, indent=1) + '\n')
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return target


def main(argv: list[str] | None = None) -> int:
    """Build the clips and print the lists' sizes; a bad input is one line and exit 2 (it was a traceback)."""
    from resbackbones.engine.cli import ToolParser
    parser = ToolParser(prog='video_clips.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('--data-root', default=REPO / 'data', type=Path)
    parser.add_argument('--force', action='store_true')
    args = parser.parse_args(argv)
    folder = build(args.data_root, args.force)
    for name in sorted(folder.glob('*.txt')):
        print(f'{name.name}: {len(name.read_text().splitlines())} clips')
    return 0


if __name__ == '__main__':
    from resbackbones.engine.cli import run_tool
    sys.exit(run_tool(main, prog='video_clips.py'))
