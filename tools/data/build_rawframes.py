"""Videos -> rawframe folders (RGB JPEGs and optical flow), as mmaction2's tools/data/build_rawframes.py, without
denseflow: flow comes from OpenCV (Farneback or DIS), encoded as denseflow does.

    python tools/data/build_rawframes.py SRC_FOLDER OUT_FOLDER [--task rgb|flow|both] [--level 1|2] [--ext mp4]
        [--flow-type dis|farneback] [--bound 20] [--new-short 0] [--num-worker 1] [--resume]
        [--ann-file LIST --on-invalid raise|skip]

Each video SRC_FOLDER/[class/]name.ext becomes OUT_FOLDER/[class/]name/ with img_00001.jpg ... (one per frame)
and flow_x_00001.jpg, flow_y_00001.jpg ... (one pair per consecutive frame pair: frames - 1 of them), the names
mmaction2's RawframeDataset reads (``filename_tmpl='img_{:05}.jpg'``, flow ``'flow_{}_{:05d}.jpg'``).
A folder appears whole or not at all (written beside, then renamed); ``--resume`` skips folders that already hold
what ``--task`` asks for (one written for the other task is written again with both).
``--ann-file``: an mmaction2 video list (``relative/path.ext LABEL`` under SRC_FOLDER) instead of the folder scan;
its rawframe lists are written next to OUT_FOLDER's folders, ``<list name>_rawframes.txt`` (frame counts) and
``<list name>_flow.txt`` (flow counts), so the configs' ``modality='Flow'`` lists come out ready. A video that
cannot be read stops the run with its name, or with ``--on-invalid skip`` is left out of the lists and named.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from resbackbones.datasets.video.action_list import (check_distinct_outputs, check_relative_path,  # noqa: E402
                                                     read_lines)
from resbackbones.engine.atomic import atomic_dir, atomic_path  # noqa: E402
from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.transforms.video.decoder import CorruptVideoError, VideoReader  # noqa: E402
from resbackbones.transforms.video.optical_flow import ALGORITHMS, encode_flow, flow_estimator, grey  # noqa: E402

CHUNK = 32  # frames decoded at a time: memory stays flat however long the video
FRAME_FILE = re.compile(r'(img|flow_x|flow_y)_\d{5,}\.jpg')  # what extract() writes (5+ digits)


def resized(frame: np.ndarray, new_short: int) -> np.ndarray:
    if not new_short:
        return frame
    h, w = frame.shape[:2]
    scale = new_short / min(h, w)
    return cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR)


def write_jpeg(path: str, image: np.ndarray) -> None:
    if not cv2.imwrite(path, image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
        raise OSError(f'cannot write {path}')


def frames_only(names) -> bool:
    """A video's folder as this tool writes it (frames and flow fields), which a rerun may replace whole."""
    return all(FRAME_FILE.fullmatch(name) for name in names)


def extract(video: str, out_dir: str, task: str, flow_type: str, bound: float, new_short: int) -> tuple[int, int]:
    """Write one video's frames and flow into ``out_dir`` (atomically); (frames, flow fields) written."""
    estimate = flow_estimator(flow_type) if task in ('flow', 'both') else None
    frames = fields = 0
    with VideoReader(video) as reader, atomic_dir(out_dir, owns=frames_only) as tmp:
        previous = None
        for start in range(0, reader.total_frames, CHUNK):
            for frame in reader.read(range(start, min(start + CHUNK, reader.total_frames))):
                frame = resized(frame, new_short)
                frames += 1
                if task in ('rgb', 'both'):
                    write_jpeg(os.path.join(tmp, f'img_{frames:05d}.jpg'), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                if estimate is not None:
                    current = grey(frame)
                    if previous is not None:
                        fields += 1
                        x, y = encode_flow(estimate(previous, current), bound)
                        write_jpeg(os.path.join(tmp, f'flow_x_{fields:05d}.jpg'), x)
                        write_jpeg(os.path.join(tmp, f'flow_y_{fields:05d}.jpg'), y)
                    previous = current
    return frames, fields


def _job(job: tuple) -> tuple[str, tuple[int, int] | str]:
    """(relative name, counts) or (relative name, the error) for one video; run in a worker."""
    name, video, out_dir, options, skip_invalid = job
    try:
        return name, extract(video, out_dir, **options)
    except (CorruptVideoError, FileNotFoundError) as err:
        if not skip_invalid:
            raise
        return name, str(err)


def videos_to_do(args: argparse.Namespace) -> list[tuple[str, str, str | None]]:
    """(path under SRC without extension, video path, label or None) per video."""
    src = Path(args.src_folder)
    if args.ann_file:
        rows = read_lines(args.ann_file, 'build_rawframes')
        for n, row in rows:
            if len(row) < 2:
                raise ValueError(f"{args.ann_file}, line {n}: expected 'relative/path.ext LABEL'")
            check_relative_path(row[0], args.ann_file, n)  # its frames would land outside OUT_FOLDER
        check_distinct_outputs([(n, str(Path(row[0]).with_suffix(''))) for n, row in rows], args.ann_file)
        return [(str(Path(row[0]).with_suffix('')), str(src / row[0]), ' '.join(row[1:])) for _, row in rows]
    pattern = '*/*.' + args.ext if args.level == 2 else '*.' + args.ext
    return [(str(p.relative_to(src).with_suffix('')), str(p), None) for p in sorted(src.glob(pattern))]


def write_lists(args: argparse.Namespace, todo: list, counts: dict) -> list[str]:
    stem = Path(args.ann_file).stem
    written = []
    os.makedirs(args.out_folder, exist_ok=True)  # every video may have been skipped
    for suffix, kind, wanted in (('rawframes', 0, ('rgb', 'both')), ('flow', 1, ('flow', 'both'))):
        if args.task in wanted:
            path = os.path.join(args.out_folder, f'{stem}_{suffix}.txt')
            # a one-frame video has no flow field: RawframeDataset(modality='Flow') refuses a count of 0
            lines = [f'{name} {counts[name][kind]} {label}' for name, _, label in todo
                     if name in counts and counts[name][kind] > 0]
            if len(lines) < sum(name in counts for name, _, _ in todo):
                print(f'{path}: left out {sum(name in counts for name, _, _ in todo) - len(lines)} video(s) with '
                      f'no {suffix} (one frame has no flow field)', file=sys.stderr)
            with atomic_path(path) as tmp:
                Path(tmp).write_text('\n'.join(lines) + '\n')
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='build_rawframes.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('src_folder', help='folder of the videos')
    parser.add_argument('out_folder', help='folder for the rawframe folders (and lists)')
    parser.add_argument('--task', choices=('rgb', 'flow', 'both'), default='both')
    parser.add_argument('--level', type=int, choices=(1, 2), default=2, help='2: SRC/class/video.ext (mmaction2)')
    parser.add_argument('--ext', default='mp4', help='video extension for the folder scan')
    parser.add_argument('--flow-type', choices=ALGORITHMS, default='dis', help='OpenCV flow estimator')
    parser.add_argument('--bound', type=float, default=20.0, help="flow clip in pixels (denseflow's -b)")
    parser.add_argument('--new-short', type=int, default=0, help='resize the short side first (0: keep)')
    parser.add_argument('--num-worker', type=int, default=1)
    parser.add_argument('--resume', action='store_true', help='skip videos whose folder exists')
    parser.add_argument('--ann-file', help='mmaction2 video list: process these and write rawframe lists')
    parser.add_argument('--on-invalid', choices=('raise', 'skip'), default='raise')
    args = parser.parse_args(argv)
    if not os.path.isdir(args.src_folder):
        parser.error(f'SRC_FOLDER {args.src_folder} is not a folder')
    if args.bound <= 0 or args.new_short < 0 or args.num_worker < 1:
        parser.error('--bound must be > 0, --new-short >= 0 and --num-worker >= 1')
    todo = videos_to_do(args)
    if not todo:
        raise ValueError(f'no videos to process in {args.src_folder} (--level {args.level}, --ext {args.ext})')
    options = dict(task=args.task, flow_type=args.flow_type, bound=args.bound, new_short=args.new_short)
    jobs = [(name, video, os.path.join(args.out_folder, name), options, args.on_invalid == 'skip')
            for name, video, _ in todo]
    done = {}
    if args.resume:
        jobs, done = resume_jobs(jobs, args.task)
    if args.num_worker > 1:
        with multiprocessing.Pool(args.num_worker) as pool:
            computed = pool.map(_job, jobs)
    else:  # in this process: no worker start-up, errors raised as they are
        computed = [_job(job) for job in jobs]
    results = {**done, **dict(computed)}
    skipped = {name: err for name, err in results.items() if isinstance(err, str)}
    counts = {name: c for name, c in results.items() if not isinstance(c, str)}
    for name, err in skipped.items():
        print(f'skipped {name}: {err}', file=sys.stderr)
    lists = write_lists(args, todo, counts) if args.ann_file else []
    print(f'{len(counts)} videos -> {args.out_folder} ({len(skipped)} skipped)' + (f'; lists: {", ".join(lists)}'
                                                                                    if lists else ''))
    return 0


def _counts(folder: str) -> tuple[int, int]:
    """(frames, flow fields) of a folder written before (``--resume``)."""
    names = os.listdir(folder)
    return sum(n.startswith('img_') for n in names), sum(n.startswith('flow_x_') for n in names)


def resume_jobs(jobs: list[tuple], task: str) -> tuple[list[tuple], dict[str, tuple[int, int]]]:
    """``--resume``: (jobs still to run, {name: counts} of folders already holding what ``task`` asks for). A folder
    written for another task (frames only, asked for flow) is extracted again with both, so that neither the frames
    it holds are lost nor a list says 0 flow fields for it."""
    todo, done = [], {}
    want_rgb, want_flow = task in ('rgb', 'both'), task in ('flow', 'both')
    for name, video, out_dir, options, skip in jobs:
        if not os.path.isdir(out_dir):
            todo.append((name, video, out_dir, options, skip))
            continue
        frames, fields = _counts(out_dir)
        # folders appear whole: no flow field beside at most one frame is a one-frame video's complete flow
        if (frames or not want_rgb) and (fields or frames <= 1 or not want_flow):
            done[name] = (frames, fields)
        else:
            both = (frames or want_rgb) and (fields or want_flow)
            todo.append((name, video, out_dir, dict(options, task='both') if both else options, skip))
    return todo, done


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='build_rawframes.py'))
