"""Deploy a trained model from its config and checkpoint to a backend, checked against torch fp32.

    python tools/deploy.py CONFIG CHECKPOINT --backend torch|onnxruntime|openvino|pt2e [--precision fp32|bf16|int8]
                           --out DIR [--eval] [--calib-batches 8] [--no-fold] [--no-channels-last] [--compile]
                           [--threads N] [--static-shapes N] [--features-only] [--cfg-options KEY=VALUE ...]

Writes DIR atomically (all files or none): the backend's artefacts (torch: folded weights; onnxruntime:
model.onnx, opset 17, dynamic batch; openvino: model.xml/.bin; pt2e: the int8 torch.export program; detectors add box_branch/ and mask_branch/, their
RoI heads in the same backend, unless --features-only) and
deploy.json (settings, versions, agreement with torch fp32 on a real test batch: max difference and cosine;
with --eval the test metrics of both and their change, and for classifiers the top-1 agreement). int8
calibrates on real training images. Prints the manifest as one line of json. A bad input (missing file,
backend not installed, unsupported precision, checkpoint not matching the config): one line, exit 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Sequence

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout too
import torch  # noqa: E402

from resbackbones.deploy.backend import PRECISIONS  # noqa: E402
from resbackbones.deploy.pipeline import deploy  # noqa: E402
from resbackbones.engine.cfg_options import CfgOptionsAction  # noqa: E402
from resbackbones.engine.cli import ToolParser, check_checkpoint, run_tool  # noqa: E402
from resbackbones.engine.config import load_config, merge_cfg_options  # noqa: E402

BACKEND_NAMES = ('torch', 'onnxruntime', 'openvino', 'pt2e')


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = ToolParser(prog='deploy.py', description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint (.pth) matching the config')
    parser.add_argument('--backend', required=True, choices=BACKEND_NAMES)
    parser.add_argument('--precision', default='fp32', choices=PRECISIONS)
    parser.add_argument('--out', required=True, help='output folder: new, empty, or an earlier deploy (replaced '
                        'as a whole)')
    parser.add_argument('--eval', action='store_true', help='also run the test split in torch fp32 and deployed')
    parser.add_argument('--calib-batches', type=int, default=8, help='int8: training batches to calibrate on')
    parser.add_argument('--no-fold', action='store_true', help='torch: keep BatchNorm layers')
    parser.add_argument('--no-channels-last', action='store_true', help='torch: keep NCHW memory format')
    parser.add_argument('--compile', action='store_true', help='torch: torch.compile (inductor)')
    parser.add_argument('--threads', type=int, default=None, help='CPU threads (default: torch decides)')
    parser.add_argument('--static-shapes', type=int, default=None, metavar='N',
                        help='openvino: input shapes that get a model compiled for them alone, in the order met '
                             '(default 2; 0: the dynamic model only)')
    parser.add_argument('--features-only', action='store_true',
                        help='detectors: deploy backbone + neck only, keep the box and mask branches in torch')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, metavar='KEY=VALUE',
                        help='override config keys, e.g. test_dataloader.dataset.data_root=...')
    args = parser.parse_args(argv)
    if args.calib_batches < 1:
        parser.error(f'--calib-batches must be >= 1; got {args.calib_batches}')
    if args.threads is not None and args.threads < 1:
        parser.error(f'--threads must be >= 1; got {args.threads}')
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = merge_cfg_options(load_config(args.config), args.cfg_options)
    check_checkpoint(args.checkpoint, 'CHECKPOINT')
    options = {}
    if args.backend == 'torch':
        options = dict(fold=not args.no_fold, channels_last=not args.no_channels_last, compile=args.compile)
    elif args.no_fold or args.no_channels_last or args.compile:
        raise ValueError(f'--no-fold, --no-channels-last and --compile are torch switches; '
                         f'backend {args.backend!r} does its own graph optimisation')
    if args.static_shapes is not None:
        if args.backend != 'openvino':
            raise ValueError(f'--static-shapes is an openvino switch; got backend {args.backend!r}')
        if args.static_shapes < 0:
            raise ValueError(f'--static-shapes must be >= 0; got {args.static_shapes}')
        options['static_shapes'] = args.static_shapes
    _, manifest = deploy(cfg, args.checkpoint, args.backend, args.precision, args.out, args.calib_batches,
                         args.eval, features_only=args.features_only, **options)
    print(json.dumps(manifest))
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='deploy.py'))
