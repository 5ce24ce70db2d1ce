"""The main demo (`make demo`): Mask R-CNN R18-FPN trained on CPU on a real fluorescence image of nuclei.

    python tools/demos/nuclei_maskrcnn.py [--work-dir work_dirs/nuclei_maskrcnn] [--iters N] [--report-only]
                                          [--cfg-options KEY=VALUE ...]

Steps, each with the project's own tools: (1) tools/data/fetch_data.py nuclei caches stardist's img2d/mask2d
(512x512, 125 nuclei) split into columns 0-383 (train) and the right-most 128 columns (held out); (2)
tools/data/instance_to_coco.py converts both parts to COCO (exact RLE masks) in data/nuclei_coco/; (3)
configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei.py trains from scratch; (4) CocoMetric scores bbox and segm on the
held-out part, and the predictions are drawn to WORK_DIR/nuclei_val.png. Prints the AP figures, the targets
(AP50 >= 0.80 and AP >= 0.50 for both) and the training wall time. Exits 1 when a target is missed (unless
--report-only), 2 on a bad input (one line on stderr).
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from resbackbones.engine.cfg_options import CfgOptionsAction  # noqa: E402
from resbackbones.engine.cli import ToolParser, build_runner, run_tool  # noqa: E402
from resbackbones.engine.config import dataset_chain, merge_cfg_options  # noqa: E402

CONFIG = REPO / 'configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei.py'
TARGETS = {'bbox_mAP_50': 0.80, 'bbox_mAP': 0.50, 'segm_mAP_50': 0.80, 'segm_mAP': 0.50}


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / 'data' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare_data(root: Path) -> Path:
    """Fetch the nuclei image (cached) and write data/nuclei_coco/{train,val}.json + PNGs; returns that folder."""
    done = subprocess.run([sys.executable, str(REPO / 'tools/data/fetch_data.py'), 'nuclei', '--root', str(root)])
    if done.returncode != 0:
        raise ValueError(f'fetching the nuclei data failed (exit {done.returncode}; its message is above)')
    out = root / 'nuclei_coco'
    out.mkdir(parents=True, exist_ok=True)
    convert = _tool('instance_to_coco').convert
    for split in ('train', 'val'):
        convert([str(root / f'nuclei/{split}/images/nuclei.tif')], [str(root / f'nuclei/{split}/masks/nuclei.tif')],
                str(out / f'{split}.json'), category='nucleus', fmt='rle')
    return out


def shortened_schedule(schedule: list, iters: int) -> list:
    """The config's warmup + cosine fitted to ``iters``: a warmup of an eighth (at most the config's), then the
    cosine to the end; under 16 iterations the cosine alone, since a one-iteration LinearLR never leaves its start
    factor in mmengine (a 2-iteration smoke run trained at 1% of the lr)."""
    warmup, cosine = (dict(s) for s in schedule)
    steps = min(warmup['end'], iters // 8)
    if steps < 2:
        return [dict(cosine, begin=0, end=iters)]
    return [dict(warmup, end=steps), dict(cosine, begin=steps, end=iters)]


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='nuclei_maskrcnn.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/nuclei_maskrcnn')
    parser.add_argument('--data-root', default='data', type=Path)
    parser.add_argument('--iters', type=int, help='training iterations (default: the config\'s max_iters)')
    parser.add_argument('--report-only', action='store_true', help='exit 0 even when an AP target is missed')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, metavar='KEY=VALUE',
                        help='override config keys, as in tools/train.py')
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters must be a positive number of iterations; got {args.iters}')

    cfg = Config.fromfile(str(CONFIG))
    cfg = merge_cfg_options(cfg, args.cfg_options)  # a mistyped key, before the data folder is rewritten
    data = prepare_data(args.data_root)
    cfg.work_dir = args.work_dir
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset_chain(cfg[loader].dataset)[-1].data_root = str(data)  # inside CachedDataset for training
    if args.iters:
        cfg.train_cfg.max_iters = args.iters
        cfg.train_cfg.val_interval = min(cfg.train_cfg.val_interval, args.iters)
        cfg.param_scheduler = shortened_schedule(cfg.param_scheduler, args.iters)
        cfg.default_hooks.checkpoint.interval = args.iters
    runner = build_runner(cfg)
    start = time.time()
    runner.train()
    minutes = (time.time() - start) / 60
    metrics = runner.test()
    figures = {k.split('/', 1)[-1]: v for k, v in metrics.items()}
    _draw(runner, Path(args.work_dir) / 'nuclei_val.png')
    print(f'\nnuclei Mask R-CNN R18-FPN, {cfg.train_cfg.max_iters} iterations in {minutes:.1f} min '
          f'(torch threads: {__import__("torch").get_num_threads()}), held-out right-most 128 columns:')
    for name in ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'segm_mAP', 'segm_mAP_50', 'segm_mAP_75'):
        target = f' (target >= {TARGETS[name]:.2f}: {"met" if figures[name] >= TARGETS[name] else "NOT met"})' \
            if name in TARGETS else ''
        print(f'  {name:<12} {figures[name]:.3f}{target}')
    missed = [name for name, target in TARGETS.items() if figures[name] < target]
    if missed and not args.report_only:
        print(f'nuclei_maskrcnn.py: targets missed: {", ".join(missed)}', file=sys.stderr)
        return 1
    return 0


def _draw(runner, path: Path) -> None:
    """Predictions on the held-out image, drawn by resbackbones.visualization (skipped if it is unavailable)."""
    try:
        from resbackbones.apis.inference import inference_detector
        from resbackbones.visualization import draw_det_sample
    except ImportError as err:
        print(f'(no picture: {err})')
        return
    dataset = runner.test_dataloader.dataset
    info = dataset.get_data_info(0)
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    sample = inference_detector(model, info['img_path'], pipeline=dataset.pipeline)
    draw_det_sample(info['img_path'], sample, path, classes=dataset.metainfo['classes'], score_thr=0.5)
    print(f'predictions drawn to {path}')


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='nuclei_maskrcnn.py'))
