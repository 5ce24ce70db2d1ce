"""Videos (or audio files) -> log-mel spectrogram .npy files for AudioDataset, as mmaction2's
tools/data/extract_audio.py + build_audio_features.py do, in one step and without ffmpeg, librosa or lws.

    python tools/data/build_audio_features.py SRC_FOLDER OUT_FOLDER [--level 1|2] [--ext mp4] [--resume]
        [--ann-file LIST --on-invalid raise|skip] [--sample-rate 16000] [--fft-size 512] [--hop-size 256]
        [--num-mels 80]

Each SRC_FOLDER/[class/]name.ext becomes OUT_FOLDER/[class/]name.npy, a (frames, num_mels) float32 array in
[0, 1] (resbackbones/transforms/video/spectrogram.py: mmaction2's recipe and defaults), written whole or not at all;
``--resume`` keeps files already there. ``--ann-file``: an mmaction2 video list (``relative/path.ext LABEL``) instead
of the folder scan; ``<list name>_audio_features.txt`` is written in OUT_FOLDER with ``name.npy TOTAL_FRAMES LABEL``
lines (TOTAL_FRAMES counts the video's frames, which AudioFeatureSelector maps onto the spectrogram). A file without
an audio stream stops the run with its name, or with ``--on-invalid skip`` is left out and named.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from resbackbones.datasets.video.action_list import (check_distinct_outputs, check_relative_path,  # noqa: E402
                                                     read_lines)
from resbackbones.engine.atomic import atomic_path  # noqa: E402
from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.transforms.video.decoder import CorruptVideoError, VideoReader  # noqa: E402
from resbackbones.transforms.video.spectrogram import log_mel_features, mel_filters, read_audio  # noqa: E402


def files_to_do(src: str, ann_file: str | None, level: int, ext: str) -> list[tuple[str, str, str | None]]:
    """(path under SRC without extension, file path, label text or None) per input."""
    if ann_file:
        rows = read_lines(ann_file, 'build_audio_features')
        bad = [n for n, row in rows if len(row) < 2]
        if bad:
            raise ValueError(f"{ann_file}, line {bad[0]}: expected 'relative/path.ext LABEL'")
        for n, row in rows:
            check_relative_path(row[0], ann_file, n)  # its features would land outside OUT_FOLDER
        check_distinct_outputs([(n, str(Path(row[0]).with_suffix(''))) for n, row in rows], ann_file)
        return [(str(Path(row[0]).with_suffix('')), os.path.join(src, row[0]), ' '.join(row[1:])) for _, row in rows]
    pattern = '*/*.' + ext if level == 2 else '*.' + ext
    return [(str(p.relative_to(src).with_suffix('')), str(p), None) for p in sorted(Path(src).glob(pattern))]


def video_frames(path: str) -> int:
    """Frames of the video stream (0 for an audio-only file)."""
    if not os.path.isfile(path):  # the reader's not-found error is a CorruptVideoError too, read as "no frames"
        raise FileNotFoundError(f'file not found: {path}')
    try:
        with VideoReader(path) as reader:
            return reader.total_frames
    except CorruptVideoError:
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='build_audio_features.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('src_folder', help='folder of the videos or audio files')
    parser.add_argument('out_folder', help='folder for the .npy features (and the list)')
    parser.add_argument('--level', type=int, choices=(1, 2), default=2, help='2: SRC/class/name.ext (mmaction2)')
    parser.add_argument('--ext', default='mp4', help='file extension for the folder scan')
    parser.add_argument('--ann-file', help='mmaction2 video list: process these and write an AudioDataset list')
    parser.add_argument('--on-invalid', choices=('raise', 'skip'), default='raise')
    parser.add_argument('--resume', action='store_true', help='keep .npy files already written')
    parser.add_argument('--sample-rate', type=int, default=16000)
    parser.add_argument('--fft-size', type=int, default=512, help='STFT frame in samples (mmaction2: 512)')
    parser.add_argument('--hop-size', type=int, default=256, help='STFT step in samples; must divide --fft-size')
    parser.add_argument('--num-mels', type=int, default=80)
    args = parser.parse_args(argv)
    if not os.path.isdir(args.src_folder):
        parser.error(f'SRC_FOLDER {args.src_folder} is not a folder')
    if min(args.sample_rate, args.fft_size, args.hop_size, args.num_mels) < 1 or args.fft_size % args.hop_size:
        parser.error('--sample-rate, --fft-size, --hop-size and --num-mels must be >= 1, and --hop-size must divide '
                     '--fft-size')
    try:  # a setting that fits no file was blamed on each file, and --on-invalid skip then skipped them all
        mel_filters(args.sample_rate, args.fft_size, args.num_mels)
    except ValueError as err:
        parser.error(f'--sample-rate {args.sample_rate}, --fft-size {args.fft_size}, --num-mels {args.num_mels}: '
                     f'{err} (the mel bands reach 7600 Hz: a sample rate of at least 15200)')
    todo = files_to_do(args.src_folder, args.ann_file, args.level, args.ext)
    if not todo:
        raise ValueError(f'nothing to process in {args.src_folder} (--level {args.level}, --ext {args.ext})')
    written, skipped = [], {}
    for name, path, label in todo:
        out = os.path.join(args.out_folder, name + '.npy')
        try:
            frames = video_frames(path) if args.ann_file else None
            if frames == 0:
                raise ValueError('no video frames to count (an AudioDataset list needs the video frame count)')
            if not (args.resume and os.path.isfile(out)):
                features = log_mel_features(read_audio(path, args.sample_rate), args.sample_rate, args.fft_size,
                                            args.hop_size, args.num_mels)
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with atomic_path(out) as tmp, open(tmp, 'wb') as f:
                    np.save(f, features, allow_pickle=False)
        except (ValueError, OSError) as err:  # no audio stream, undecodable or missing file
            if args.on_invalid == 'raise':
                raise ValueError(f'{path}: {err} (--on-invalid skip leaves such files out)') from err
            skipped[name] = str(err)
            continue
        written.append((name, frames, label))
    for name, err in skipped.items():
        print(f'skipped {name}: {err}', file=sys.stderr)
    listed = ''
    if args.ann_file:
        os.makedirs(args.out_folder, exist_ok=True)  # every file may have been skipped
        listed = os.path.join(args.out_folder, Path(args.ann_file).stem + '_audio_features.txt')
        lines = [f'{name}.npy {frames} {label}' for name, frames, label in written]
        with atomic_path(listed) as tmp:
            Path(tmp).write_text('\n'.join(lines) + '\n')
        listed = f'; list: {listed}'
    print(f'{len(written)} files -> {args.out_folder} ({len(skipped)} skipped){listed}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='build_audio_features.py'))
