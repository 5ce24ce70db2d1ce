"""What one number per clip can do on the video demo: a motion-energy threshold, the calibration floor and ceiling.

    python tools/demos/video_motion_baseline.py [--data-root data | --clips-dir DIR] [--tasks speed direction]
                                                [--splits time video]

Each clip of the demo's lists (tools/demos/video_clips.py) is reduced to its motion energy: the mean absolute
difference between consecutive grey frames over the centre 64x64 (what the test pipeline crops), in log scale.
Per task and split it prints the test accuracy of
- a global threshold fitted on the training clips (what a model that only measures motion could learn);
- per-video thresholds fitted on each video's training clips (time split only: its videos are on both sides), i.e.
  a model that also recognises the video and knows its usual motion;
- per-video thresholds fitted on the test clips themselves: an oracle, the best any one-number-per-video rule gets.
Playback speed changes the energy; reversal does not, so direction sits at chance by construction here.
Exits 2 on a bad input (missing list or clip, a line without a label).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tools' / 'demos'))
from video_clips import build  # noqa: E402

from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.transforms.video import VideoReader  # noqa: E402

CROP = 64


def clip_energy(path: Path) -> float:
    """log mean |frame[t+1] - frame[t]| of the grey centre CROP x CROP (whole frame when smaller)."""
    with VideoReader(str(path)) as reader:
        frames = reader.read(range(reader.total_frames)).astype(np.float64).mean(axis=3)  # (T, H, W) grey
    if len(frames) < 2:
        raise ValueError(f'{path}: {len(frames)} frame(s); motion energy needs at least 2')
    h, w = frames.shape[1:]
    top, left = max(0, (h - CROP) // 2), max(0, (w - CROP) // 2)
    centre = frames[:, top:top + CROP, left:left + CROP]
    return float(np.log(np.abs(np.diff(centre, axis=0)).mean() + 1e-6))


def read_list(folder: Path, name: str) -> list[tuple[str, float, int]]:
    """(video, energy, label) of every line of folder/name (``clips/VIDEO_TASK_START_LABEL.mp4 LABEL``)."""
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(f'{path} does not exist: run python tools/demos/video_clips.py')
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValueError(f'{path}, line {number}: expected "clip.mp4 LABEL"; got {line!r}')
        video = Path(parts[0]).stem.rsplit('_', 3)[0]
        rows.append((video, clip_energy(folder / parts[0]), int(parts[1])))
    return rows


def fit_threshold(energy: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
    """(threshold, sign) maximising accuracy of ``labels == (sign * (energy - threshold) > 0)``."""
    cuts = np.concatenate([[energy.min() - 1], (np.sort(energy)[1:] + np.sort(energy)[:-1]) / 2, [energy.max() + 1]])
    best = max(((((sign * (energy - cut)) > 0) == labels).mean(), cut, sign) for cut in cuts for sign in (1, -1))
    return best[1], best[2]


def accuracy(energy: np.ndarray, labels: np.ndarray, rule: tuple[float, int]) -> np.ndarray:
    return ((rule[1] * (energy - rule[0])) > 0) == labels


def evaluate(train: list, test: list, per_video_train: bool) -> dict[str, float]:
    """Test accuracy of the global, per-video (fitted on train) and per-video oracle thresholds."""
    def arrays(rows, video=None):
        rows = [r for r in rows if video is None or r[0] == video]
        return np.array([r[1] for r in rows]), np.array([r[2] for r in rows])

    out = {'global': float(accuracy(*arrays(test), fit_threshold(*arrays(train))).mean())}
    hits = {'per_video': 0, 'oracle': 0}
    videos = sorted({r[0] for r in test})
    for video in videos:
        energy, labels = arrays(test, video)
        hits['oracle'] += int(accuracy(energy, labels, fit_threshold(energy, labels)).sum())
        if per_video_train:
            fitted = arrays(train, video)
            if len(fitted[0]) == 0:
                raise ValueError(f'video {video} has test clips but no training clips; per-video thresholds '
                                 'need both (time split)')
            hits['per_video'] += int(accuracy(energy, labels, fit_threshold(*fitted)).sum())
    out.update({k: v / len(test) for k, v in hits.items() if per_video_train or k == 'oracle'})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='video_motion_baseline.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('--data-root', default=REPO / 'data', type=Path)
    parser.add_argument('--tasks', nargs='+', default=['speed', 'direction'], choices=['speed', 'direction'])
    parser.add_argument('--splits', nargs='+', default=['time', 'video'], choices=['time', 'video'])
    parser.add_argument('--clips-dir', type=Path, help='a folder of lists and clips in the demo layout (default: '
                        'the one video_clips.py builds under --data-root)')
    args = parser.parse_args(argv)
    folder = args.clips_dir or build(args.data_root)
    print('motion-energy threshold, test accuracy (chance 0.50)')
    for task in args.tasks:
        for split in args.splits:
            train, test = (read_list(folder, f'{task}_{split}_{part}.txt') for part in ('train', 'test'))
            figures = evaluate(train, test, per_video_train=split == 'time')
            shown = ', '.join(f'{name} {value:.3f}' for name, value in figures.items())
            print(f'  {task:9s} {split:5s} ({len(train)} train / {len(test)} test clips): {shown}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='video_motion_baseline.py'))
