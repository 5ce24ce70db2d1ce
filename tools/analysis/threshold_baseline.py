"""The intensity-threshold baseline of a segmentation config: how far does one voxel's intensity alone go?

    python tools/analysis/threshold_baseline.py configs/unet3d/unet3d_r18_mni-tissue.py [--levels 99]

For K ordered classes (background, then classes of rising intensity: the MNI tissue configs' background <
grey matter < white matter on T1) it picks the K-1 intensity cut points that give the best mean foreground Dice on
the config's training split (searched over --levels percentiles of the foreground intensities), then applies them
unchanged to the test split and prints both Dice figures. A network that scores below this on the same split has
not learned what a per-voxel lookup already knows. Reads the datasets exactly as the config does (same crop,
normalisation and labels), without the training augmentations. Bad input: one line on stderr, exit status 2.
"""
from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from resbackbones.engine.cli import ToolParser, run_tool  # noqa: E402
from resbackbones.engine.config import load_config  # noqa: E402
from resbackbones.registry import DATASETS  # noqa: E402


READING = ('LoadImageAndMask', 'NormalizeIntensity')  # the steps that read an image as the model sees it


def reading_dataset(dataset_cfg: dict) -> dict:
    """The dataset config unwrapped (a CachedDataset's inner dataset) with only its reading steps: the NIfTI
    datasets read in the dataset itself, image folders in LoadImageAndMask (with an empty pipeline nothing was
    read); augmentations and packing are left out."""
    while dataset_cfg.get('type') == 'CachedDataset' and isinstance(dataset_cfg.get('dataset'), dict):
        dataset_cfg = dataset_cfg['dataset']
    steps = [t for t in dataset_cfg.get('pipeline') or () if isinstance(t, dict) and t.get('type') in READING]
    return dict(dataset_cfg, pipeline=steps)


def load_split(dataset_cfg: dict, where: str) -> tuple[np.ndarray, np.ndarray]:
    """All intensities and labels of one split, flattened (single-channel images only)."""
    dataset = DATASETS.build(reading_dataset(dataset_cfg))
    images, labels = [], []
    for index in range(len(dataset)):
        sample = dataset[index]
        image = np.asarray(sample['img'], dtype=np.float32)
        if image.ndim == np.ndim(sample['gt_seg_map']) + 1:  # (1, D, H, W) volumes or (H, W, 1) images
            if 1 not in (image.shape[0], image.shape[-1]):
                raise ValueError(f'{where}: sample {index} has shape {image.shape}; the threshold baseline takes '
                                 f'single-channel images')
            image = image[0] if image.shape[0] == 1 else image[..., 0]
        images.append(image.ravel())
        labels.append(np.asarray(sample['gt_seg_map']).ravel())
    return np.concatenate(images), np.concatenate(labels).astype(np.int64)


def predict(intensity: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """Class k for intensities in [cuts[k-1], cuts[k]); class 0 below the first cut."""
    return np.searchsorted(np.asarray(cuts), intensity, side='right')


def mean_dice(pred: np.ndarray, labels: np.ndarray, num_classes: int) -> list[float]:
    """Dice of classes 1..K-1 (background excluded, as the project's mDice); labels outside [0, K) (ignored) not
    counted."""
    counted = (labels >= 0) & (labels < num_classes)  # an ignore_index of -1 or 255 alike
    pred, labels = pred[counted], labels[counted]
    dice = []
    for k in range(1, num_classes):
        p, t = pred == k, labels == k
        dice.append(2 * float((p & t).sum()) / max(float(p.sum() + t.sum()), 1.0))
    return dice


def best_cuts(intensity: np.ndarray, labels: np.ndarray, num_classes: int, levels: int) -> tuple[float, ...]:
    """The increasing K-1 cut points among ``levels`` foreground percentiles with the best mean Dice.

    Exhaustive over the candidates, scored from per-bin label counts (the voxels are binned once), so the search
    costs combinations x classes, not combinations x voxels.
    """
    foreground = (labels > 0) & (labels < num_classes)
    candidates = np.unique(np.percentile(intensity[foreground], np.linspace(0.5, 99.5, levels)))
    bins = np.searchsorted(candidates, intensity, side='right')  # = the class index if every candidate were a cut
    counts = np.zeros((len(candidates) + 1, num_classes))
    counted = ((labels >= 0) & (labels < num_classes)).astype(float)  # an ignore_index of -1 or 255 alike
    np.add.at(counts, (bins, np.clip(labels, 0, num_classes - 1)), counted)
    below = np.concatenate([np.zeros((1, num_classes)), counts.cumsum(0)])  # below[b]: counts of bins < b
    truth = counts.sum(0)
    best, best_score = None, -1.0
    for cuts in itertools.combinations(range(len(candidates)), num_classes - 1):
        edges = (0, *(c + 1 for c in cuts), len(candidates) + 1)  # class k takes bins edges[k] .. edges[k+1]-1
        score = 0.0
        for k in range(1, num_classes):
            region = below[edges[k + 1]] - below[edges[k]]
            score += 2 * region[k] / max(region.sum() + truth[k], 1.0)
        if score > best_score:
            best, best_score = cuts, score
    if best is None:
        raise ValueError(f'fewer than {num_classes - 1} distinct foreground intensities: nothing to threshold')
    return tuple(float(candidates[c]) for c in best)


def loader_dataset(cfg, key: str, config: str) -> dict:
    """``cfg[key].dataset``; ValueError naming the key when the config has none (None gave an AttributeError)."""
    if not isinstance(cfg.get(key), dict) or not isinstance(cfg[key].get('dataset'), dict):
        raise ValueError(f'{config}: {key} must be a dict with a dataset; got {cfg.get(key)!r}')
    return cfg[key].dataset


def threshold_baseline(config: str, levels: int = 99) -> dict:
    """Cut points fitted on the config's training split; their per-class Dice on the train and test splits."""
    cfg = load_config(config)
    train_dataset = reading_dataset(loader_dataset(cfg, 'train_dataloader', config))
    num_classes = len(train_dataset.get('classes') or ())
    if num_classes < 2:
        raise ValueError(f'{config}: train_dataloader.dataset.classes must name at least 2 classes')
    test_dataset = loader_dataset(cfg, 'test_dataloader', config)  # before the minutes of reading the training data
    train = load_split(train_dataset, f'{config} (train)')
    test = load_split(test_dataset, f'{config} (test)')
    if not ((train[1] > 0) & (train[1] < num_classes)).any():  # np.percentile of nothing: a bare IndexError
        raise ValueError(f'{config} (train): no foreground voxels (labels 1..{num_classes - 1}) in the training '
                         f'split; there is nothing to place a cut between')
    cuts = best_cuts(*train, num_classes, levels)
    return dict(classes=list(train_dataset['classes'])[1:], cuts=cuts,
                train_dice=mean_dice(predict(train[0], cuts), train[1], num_classes),
                test_dice=mean_dice(predict(test[0], cuts), test[1], num_classes))


def main(argv: list[str] | None = None) -> int:
    parser = ToolParser(prog='threshold_baseline.py', description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='a segmentation config (single-channel images)')
    parser.add_argument('--levels', type=int, default=99, help='percentile candidates per cut point')
    args = parser.parse_args(argv)
    if args.levels < 2:
        parser.error(f'--levels must be >= 2; got {args.levels}')
    result = threshold_baseline(args.config, args.levels)
    for split in ('train', 'test'):
        per_class = ', '.join(f'{n} {d:.4f}' for n, d in zip(result['classes'], result[f'{split}_dice']))
        print(f'{split}: mean Dice {np.mean(result[f"{split}_dice"]):.4f} ({per_class})')
    print(f'cut points (normalised intensity): {", ".join(f"{c:.4f}" for c in result["cuts"])}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main, prog='threshold_baseline.py'))
