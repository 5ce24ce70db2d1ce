"""Where a detector's predict spends its time: milliseconds per part, on a real image of its config.

    python tools/analysis/detector_time.py CONFIG [--checkpoint CKPT] [--split train|test] [--rounds 5]
                                           [--threads N]

Times one image of the config's split (test pipeline) through ``mode='predict'`` and attributes the wall time to
the parts torchvision's R-CNN is made of: backbone, neck, RPN, each RoIAlign, the box and mask heads and
predictors, and the pasting of masks into the image. Prints each part's mean milliseconds and share of the
predict, then the rest (what no part covers). It is what showed the mask branch and the pasting to be worth
deploying / rewriting (docs/deploy.md). Without --checkpoint the weights are the config's initialisation, which
changes how many detections reach the mask branch. Bad input: one line on stderr, exit status 2.
"""
from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from resbackbones.deploy.loading import load_task_model, real_batches  # noqa: E402
from resbackbones.deploy.targets import kind_of  # noqa: E402
from resbackbones.engine.cli import ToolParser, check_checkpoint, run_tool  # noqa: E402
from resbackbones.engine.config import load_config, model_config  # noqa: E402
from resbackbones.models.detectors import two_stage  # noqa: E402
from resbackbones.registry import MODELS  # noqa: E402

ROI_PARTS = ('box_roi_pool', 'box_head', 'box_predictor', 'mask_roi_pool', 'mask_head', 'mask_predictor')


def timed_parts(model: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """The parts to time, by name (those the model has)."""
    parts = {name: getattr(model, name) for name in ('backbone', 'neck', 'rpn') if getattr(model, name, None)}
    parts.update({name: getattr(model.roi_heads, name) for name in ROI_PARTS
                  if getattr(model.roi_heads, name, None) is not None})
    return parts


def profile(model: torch.nn.Module, image: torch.Tensor, rounds: int) -> tuple[dict[str, float], float, int]:
    """(mean seconds per part, mean seconds per predict, detections) over ``rounds`` predicts after one warm-up."""
    seconds: dict[str, float] = defaultdict(float)
    started: dict[str, float] = {}
    hooks = []
    for name, module in timed_parts(model).items():
        hooks.append(module.register_forward_pre_hook(lambda *_, n=name: started.__setitem__(n, time.perf_counter())))
        hooks.append(module.register_forward_hook(
            lambda *_, n=name: seconds.__setitem__(n, seconds[n] + time.perf_counter() - started[n])))
    paste = two_stage.paste_masks

    def timed_paste(*args, **kwargs):
        start = time.perf_counter()
        out = paste(*args, **kwargs)
        seconds['paste_masks'] += time.perf_counter() - start
        return out
    two_stage.paste_masks = timed_paste
    try:
        with torch.no_grad():
            model(image, mode='predict')
            seconds.clear()
            start = time.perf_counter()
            for _ in range(rounds):
                result = model(image, mode='predict')[0].pred_instances
            total = (time.perf_counter() - start) / rounds
    finally:
        two_stage.paste_masks = paste
        for hook in hooks:
            hook.remove()
    return {name: value / rounds for name, value in seconds.items()}, total, len(result.bboxes)


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='detector_time.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='trained weights (default: the initialised model)')
    parser.add_argument('--split', default='train', choices=['train', 'test'], help='where the image comes from')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--threads', type=int, default=None)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f'--rounds must be >= 1; got {args.rounds}')
    if args.threads is not None and args.threads < 1:  # -1: torch's traceback; 0 was ignored
        parser.error(f'--threads must be >= 1; got {args.threads}')
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    if args.checkpoint:
        check_checkpoint(args.checkpoint, '--checkpoint')
        model = load_task_model(cfg, args.checkpoint)
    else:
        model = MODELS.build(model_config(cfg)).eval()
    if kind_of(model) != 'detector':
        raise ValueError(f'{args.config}: the model is a {kind_of(model)}, not a two-stage detector')
    image = real_batches(cfg, model, args.split, 1)[0]
    parts, total, detections = profile(model, image, args.rounds)
    print(f'{args.config}: image {tuple(image.shape)}, {detections} detections, {total * 1e3:.1f} ms per predict '
          f'({args.rounds} rounds, {torch.get_num_threads()} threads)')
    for name, value in parts.items():
        print(f'  {name:16s} {value * 1e3:8.1f} ms  {value / total:6.1%}')
    rest = total - sum(parts.values())
    print(f'  {"rest":16s} {rest * 1e3:8.1f} ms  {rest / total:6.1%}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='detector_time.py'))
