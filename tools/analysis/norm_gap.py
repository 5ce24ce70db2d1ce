"""How much of a segmentation model's fit survives eval-mode normalisation?

    python tools/analysis/norm_gap.py CONFIG CHECKPOINT [--batches 8] [--seed 0]

Draws --batches batches from the config's training pipeline (its patches, augmentations and batch size) and scores
the checkpoint on them twice, same weights and same voxels: once with every BatchNorm using the batch's own
statistics, as in training, and once in eval mode, with the running statistics that validation and inference use.
A large drop means the model learned to lean on batch statistics (small batches of similar patches), and held-out
scores inherit that drop; GroupNorm or frozen norms score the same both ways. Prints mean foreground Dice (and per
class) for both modes. Bad input: one line on stderr, exit status 2.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from resbackbones.apis.inference import init_detector  # noqa: E402
from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.engine.config import dataset_chain, load_config  # noqa: E402
from resbackbones.models.seg_samples import gt_maps  # noqa: E402
from resbackbones.registry import DATASETS  # noqa: E402


def draw_batches(cfg, model: nn.Module, batches: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``batches`` (inputs, labels) pairs from the training pipeline, drawn with a fixed seed, through the model's
    data preprocessor as training and testing feed it (a normalising one was skipped: both Dice figures scored
    inputs the network never saw); padding is labelled with the model's ignore_index."""
    loader = cfg.train_dataloader
    dataset = DATASETS.build(loader.dataset)
    if len(dataset) == 0:
        raise ValueError('train_dataloader.dataset is empty')
    rng = np.random.default_rng(seed)
    np.random.seed(seed)  # the random patch and flip transforms draw from numpy's global state
    ignore = cfg.model.get('ignore_index', 255)
    out = []
    for _ in range(batches):
        samples = [dataset[int(i)] for i in rng.integers(0, len(dataset), loader.get('batch_size', 1))]
        data = model.data_preprocessor(dict(inputs=[s['inputs'] for s in samples],
                                            data_samples=[s['data_samples'] for s in samples]), False)
        inputs = data['inputs'].float()
        labels = gt_maps(data['data_samples'], inputs.shape[2:], ignore, inputs.device, required=True)
        out.append((inputs, labels))
    return out


def dice_per_class(predictions: list[torch.Tensor], labels: list[torch.Tensor], num_classes: int) -> list[float]:
    """Dice of classes 1..K-1 pooled over all batches (labels outside 0..K-1, an ignore_index of 255 or -1 and the
    padding, are left out: -1 counted predicted foreground there as false positives)."""
    pred, true = torch.cat([p.flatten() for p in predictions]), torch.cat([t.flatten() for t in labels])
    counted = (true >= 0) & (true < num_classes)
    pred, true = pred[counted], true[counted]
    return [2 * float(((pred == k) & (true == k)).sum()) / max(float((pred == k).sum() + (true == k).sum()), 1.0)
            for k in range(1, num_classes)]


@torch.no_grad()
def norm_gap(config: str, checkpoint: str, batches: int = 8, seed: int = 0) -> dict:
    """Per-class Dice on training batches with batch statistics ('batch') and running statistics ('eval')."""
    cfg = load_config(config)
    model = init_detector(cfg, checkpoint)
    num_classes = getattr(model, 'num_classes', None)
    if num_classes is None or not hasattr(model, 'logits'):
        raise ValueError(f'{config}: model must be a segmentation model with logits() and num_classes (a UNet)')
    data = draw_batches(cfg, model, batches, seed)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    names = dataset_chain(cfg.train_dataloader.dataset)[-1].get('classes')  # inside a CachedDataset too
    if names is not None and len(names) != num_classes:  # zip would have cut the per-class lines short
        raise ValueError(f'{config}: the training set names {len(names)} classes, the model scores {num_classes}')
    result = dict(classes=list(names or range(num_classes))[1:], batch_norms=len(norms))
    for mode in ('batch', 'eval'):
        model.eval()
        for norm in norms:
            norm.train(mode == 'batch')
            norm.momentum = 0.0  # batch statistics are used, but the stored running ones stay untouched
        predictions = [model.labels(model.probabilities(model.logits(x))) for x, _ in data]
        result[mode] = dice_per_class(predictions, [y for _, y in data], num_classes)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='norm_gap.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='a segmentation config')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('--batches', type=int, default=8, help='training batches to score')
    parser.add_argument('--seed', type=int, default=0, help='seed of the batch draw')
    args = parser.parse_args(argv)
    if args.batches < 1:
        parser.error(f'--batches must be >= 1; got {args.batches}')
    result = norm_gap(args.config, args.checkpoint, args.batches, args.seed)
    print(f'{result["batch_norms"]} BatchNorm layers; {args.batches} training batches')
    for mode, label in (('batch', 'batch statistics (training)'), ('eval', 'running statistics (eval)')):
        per_class = ', '.join(f'{n} {d:.4f}' for n, d in zip(result['classes'], result[mode]))
        print(f'{label}: mean Dice {np.mean(result[mode]):.4f} ({per_class})')
    print(f'gap (batch - eval): {np.mean(result["batch"]) - np.mean(result["eval"]):+.4f}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='norm_gap.py'))
