"""Is the video pipeline fast and flat? Clips/s of decode + sample + transform, side by side with decord.

    python tools/benchmark_video_data.py [--clips 48] [--workers 2] [--frames 250] [--long-minutes 10]
                                         [--model-steps 2] [--out FILE.json]

1. Throughput: a synthetic 720p mp4 (PyAV, x264, keyframe every 25 frames); SlowOnly's training pipeline
   (SampleFrames 8x8x1, Resize short side 256, RandomResizedCrop, Resize 224x224, Flip, FormatShape NCTHW) in a
   DataLoader with --workers workers, decoding with (a) this project's PyAVInit/PyAVDecode (seek, decode only the
   sampled frames), (b) decord (mmaction2's default reader) when it is installed, (c) a naive full decode.
2. The model side: I3D R50 (configs/_base_/models/i3d_r50.py, random weights) training steps on 8x224x224 clips,
   clips/s; the pipeline should deliver at least 2x that.
3. Memory: a --long-minutes video (25 fps, 320x180) read clip by clip across its whole length in a fresh process;
   peak RSS after 2 clips and after 24 clips (flat = no whole-video buffers), next to what a full decode would hold.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from resbackbones.engine.atomic import atomic_path, ensure_writable_dir  # noqa: E402
from resbackbones.registry import TRANSFORMS  # noqa: E402
from resbackbones.transforms.video.decoder import decode_all  # noqa: E402
from resbackbones.transforms.video.writer import write_video  # noqa: E402

AFTER_DECODE = [dict(type='Resize', scale=(-1, 256)), dict(type='RandomResizedCrop'),
                dict(type='Resize', scale=(224, 224), keep_ratio=False), dict(type='Flip', flip_ratio=0.5),
                dict(type='FormatShape', input_format='NCTHW'), dict(type='PackActionInputs')]
SAMPLE = dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1)


def smooth_frames(num: int, height: int, width: int, seed: int = 0):
    """Camera-like frames: a smooth random scene panned a few pixels per frame (x264 compresses it as real video)."""
    rng = np.random.default_rng(seed)
    scene = cv2.resize(rng.integers(0, 256, (height // 8, width // 4, 3), dtype=np.uint8), (width * 2, height * 2),
                       interpolation=cv2.INTER_CUBIC)
    for i in range(num):
        dy, dx = (i * 2) % height, (i * 5) % width
        yield scene[dy:dy + height, dx:dx + width]


class ClipSet(torch.utils.data.Dataset):
    """``length`` training clips of one video, decoded by ``reader`` ('pyav', 'decord' or 'full')."""

    def __init__(self, path: str, length: int, reader: str):
        self.path, self.length, self.reader = path, length, reader
        self.after = [TRANSFORMS.build(t) for t in AFTER_DECODE]
        self.sample = TRANSFORMS.build(SAMPLE)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, idx: int) -> dict:
        results = dict(filename=self.path, start_index=0, label=0)
        if self.reader == 'pyav':
            for t in (TRANSFORMS.build(dict(type='PyAVInit')), self.sample, TRANSFORMS.build(dict(type='PyAVDecode'))):
                results = t(results)
        elif self.reader == 'decord':
            import decord
            video = decord.VideoReader(self.path, num_threads=1)
            results = self.sample(dict(results, total_frames=len(video)))
            results['imgs'] = video.get_batch(results['frame_inds']).asnumpy()
        else:
            frames = decode_all(self.path)
            results = self.sample(dict(results, total_frames=len(frames)))
            results['imgs'] = frames[results['frame_inds']]
        for t in self.after:
            results = t(results)
        return results


def clips_per_second(path: str, clips: int, workers: int, reader: str) -> float:
    loader = torch.utils.data.DataLoader(ClipSet(path, clips, reader), batch_size=1, num_workers=workers,
                                         collate_fn=lambda batch: batch)
    start, count = time.perf_counter(), 0
    for batch in loader:
        assert batch[0]['inputs'].shape == (1, 3, 8, 224, 224)
        count += len(batch)
    return count / (time.perf_counter() - start)


def i3d_clips_per_second(steps: int, batch: int = 2) -> float:
    from mmengine.config import Config
    from resbackbones.registry import MODELS
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[1] / 'configs/_base_/models/i3d_r50.py'))
    cfg.model.backbone.pop('init_cfg')
    model = MODELS.build(cfg.model).train()
    optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    clips, labels = torch.randn(batch, 3, 8, 224, 224), torch.tensor([0, 1][:batch])
    times = []
    for _ in range(steps + 1):  # the first step warms up
        start = time.perf_counter()
        loss = model(clips, labels, mode='loss')['loss']
        optim.zero_grad()
        loss.backward()
        optim.step()
        times.append(time.perf_counter() - start)
    return batch / float(np.mean(times[1:]))


LONG_FPS = 25
LONG_MIN_FRAMES = 65  # the probe reads 64-frame spans (8 frames, interval 8) at 24 places
MEMORY_PROBE = '''
import sys, numpy as np
sys.path.insert(0, {repo!r})
from resbackbones.transforms.video import VideoReader
def peak_mb():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024
with VideoReader({path!r}) as reader:
    n = reader.total_frames
    starts = np.linspace(0, n - 65, 24).astype(int)
    reader.read(range(starts[0], starts[0] + 64, 8)); reader.read(range(starts[1], starts[1] + 64, 8))
    after2 = peak_mb()
    for s in starts[2:]:
        reader.read(range(s, s + 64, 8))
    print(n, after2, peak_mb())
'''


def memory_probe(path: str) -> dict:
    repo = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, '-c', MEMORY_PROBE.format(repo=repo, path=path)], capture_output=True,
                          text=True, check=True)
    frames, after2, after24 = done.stdout.split()
    return dict(frames=int(frames), peak_mb_after_2_clips=round(float(after2), 1),
                peak_mb_after_24_clips=round(float(after24), 1),
                growth_mb=round(float(after24) - float(after2), 1),
                full_decode_would_hold_mb=round(int(frames) * 180 * 320 * 3 / 2 ** 20, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--clips', type=int, default=48)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--frames', type=int, default=250, help='frames of the 720p video')
    parser.add_argument('--long-minutes', type=float, default=10.0)
    parser.add_argument('--model-steps', type=int, default=2)
    parser.add_argument('--out', type=Path)
    args = parser.parse_args(argv)
    if min(args.clips, args.frames) < 1 or min(args.workers, args.model_steps) < 0:
        parser.error(f'--clips and --frames must be >= 1, --workers and --model-steps >= 0 (0: no model steps); '
                     f'got {args.clips}, {args.frames}, {args.workers}, {args.model_steps}')
    if args.out is not None:  # an IsADirectoryError came only after the whole run, and its report was lost
        if args.out.is_dir():
            parser.error(f'--out {args.out} is a folder; give a file name (e.g. {args.out / "video_data.json"})')
        try:
            ensure_writable_dir(str(args.out.parent.resolve()), '--out folder')
        except ValueError as err:
            parser.error(str(err))
    if args.long_minutes * 60 * LONG_FPS < LONG_MIN_FRAMES:
        parser.error(f'--long-minutes {args.long_minutes}: the long video needs at least {LONG_MIN_FRAMES} frames '
                     f'({LONG_MIN_FRAMES / LONG_FPS / 60:.3f} minutes at {LONG_FPS} fps)')
    report = dict(torch_threads=torch.get_num_threads(), workers=args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        video = str(Path(tmp) / 'hd.mp4')
        write_video(video, smooth_frames(args.frames, 720, 1280), fps=25, gop=25, options={'preset': 'veryfast'})
        readers = ['pyav', 'full']
        try:
            import decord  # noqa: F401  (only whether it imports)
            readers.insert(1, 'decord')
        except ImportError:
            report['decord'] = 'not installed'
        for reader in readers:
            clips = args.clips if reader != 'full' else max(4, args.clips // 8)
            report[f'clips_per_s_{reader}'] = round(clips_per_second(video, clips, args.workers, reader), 2)
            print(f'{reader:7s} decode + SlowOnly pipeline, 720p -> 8x224x224: '
                  f'{report[f"clips_per_s_{reader}"]:.2f} clips/s ({args.workers} workers)', flush=True)
        if args.model_steps:
            report['i3d_r50_train_clips_per_s'] = round(i3d_clips_per_second(args.model_steps), 3)
            ratio = report['clips_per_s_pyav'] / report['i3d_r50_train_clips_per_s']
            report['pipeline_over_model'] = round(ratio, 1)
            print(f'I3D R50 training steps (8x224x224, batch 2): {report["i3d_r50_train_clips_per_s"]:.3f} clips/s; '
                  f'the pipeline delivers {ratio:.1f}x that (goal >= 2x)', flush=True)
        long_video = str(Path(tmp) / 'long.mp4')
        frames = int(args.long_minutes * 60 * LONG_FPS)
        write_video(long_video, smooth_frames(frames, 180, 320), fps=LONG_FPS, gop=50, options={'preset': 'ultrafast'})
        report['long_video'] = memory_probe(long_video)
        m = report['long_video']
        print(f"{args.long_minutes:g}-minute video ({m['frames']} frames, 320x180): peak RSS "
              f"{m['peak_mb_after_2_clips']} MB after 2 clips (the process, imports included), "
              f"{m['peak_mb_after_24_clips']} MB after 24 clips spread over it (+{m['growth_mb']} MB); a full decode "
              f"would hold {m['full_decode_would_hold_mb']} MB of frames")
    if args.out:
        with atomic_path(str(args.out)) as tmp:
            Path(tmp).write_text(json.dumps(report, indent=1) + '\n')
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
