"""Evaluate a checkpoint on the config's test split (mmdet/mmpretrain interface).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR] [--cfg-options KEY=VALUE ...]
                         [--launcher none|pytorch|slurm]

--show-dir DIR adds the hook named by the config's ``show_hook`` (default PredictionGridHook), out_dir=DIR:
PredictionGridHook (DIR/predictions.png, test images titled 'pred (gt true)'), for detection DetVisualizationHook,
for segmentation SegOverlayHook. The metrics are printed as one line of json at the end.
Many processes: tools/dist_test.sh CONFIG CHECKPOINT NPROC [args].
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too
from mmengine.dist import is_main_process  # noqa: E402

from resbackbones.engine.atomic import ensure_writable_dir  # noqa: E402
from resbackbones.engine.cli import (ToolParser, add_common_args, build_runner, check_checkpoint,  # noqa: E402
                                     config_from_args, run_tool)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='test.py', description='Evaluate a checkpoint on the test split of a config.')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file (.pth) to evaluate')
    parser.add_argument('--show-dir', help="draw test predictions into this folder (with the config's show_hook)")
    add_common_args(parser)
    return parser.parse_args(argv)


def json_line(metrics: dict) -> str:
    """The metrics as one line of strict JSON: floats to 4 places, NaN/inf (an HD95 of a class absent from an
    image) as null, which JSON parsers other than Python's refuse as NaN."""
    def plain(value):
        if hasattr(value, 'tolist'):  # tensors and numpy values: scalars, or per-class arrays as lists
            value = value.tolist()
        if isinstance(value, float):
            return round(value, 4) if math.isfinite(value) else None
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value if isinstance(value, (int, str, bool, type(None))) else str(value)
    return json.dumps({key: plain(value) for key, value in metrics.items()}, allow_nan=False)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    overridden = sorted(set(args.cfg_options or {}) & {'load_from', 'load_strict', 'resume'})
    if overridden:  # set below whatever the options say: a user's load_strict=False was dropped without a word
        raise ValueError(f'--cfg-options {overridden}: test.py loads CHECKPOINT (the second argument), strictly, and '
                         'never resumes; give the checkpoint as CHECKPOINT and leave these out')
    cfg = config_from_args(args)
    cfg.load_from = check_checkpoint(args.checkpoint, 'CHECKPOINT')
    cfg.resume = False
    cfg.load_strict = True  # every weight of the model from the checkpoint, or a named error (not a partial score)
    if cfg.get('test_dataloader') is None or cfg.get('test_evaluator') is None:
        raise ValueError(f'{args.config} has no test_dataloader/test_evaluator to evaluate on')
    if args.show_dir:
        if os.path.isfile(args.show_dir):
            raise NotADirectoryError(f'--show-dir {args.show_dir} is a file; give a folder')
        ensure_writable_dir(args.show_dir, '--show-dir')  # under a file or unwritable: failed after the whole test
        if not show_face_rocs(cfg, args.show_dir):
            cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
                dict(type=cfg.get('show_hook', 'PredictionGridHook'), out_dir=args.show_dir)]
    metrics = build_runner(cfg).test()
    if is_main_process():
        print(json_line(metrics))
    return 0


def show_face_rocs(cfg, show_dir: str) -> bool:
    """A face model's pictures are its ROCs: each FaceVerificationMetric of the test writes ``roc[_<prefix>].png``
    into ``show_dir`` (the classifier's prediction grid stopped the test on the first batch: no 'pred_label').
    False for other models, or a config that names its own ``show_hook``."""
    if cfg.model.get('type') != 'FaceRecognizer' or 'show_hook' in cfg:
        return False
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
    for i, evaluator in enumerate(evaluators):
        if evaluator.get('type') == 'FaceVerificationMetric':
            name = evaluator.get('prefix') or (str(i) if len(evaluators) > 1 else '')
            evaluator['roc_file'] = os.path.join(show_dir, f'roc_{name}.png' if name else 'roc.png')
    return True


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='test.py'))
