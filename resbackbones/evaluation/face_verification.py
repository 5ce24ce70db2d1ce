"""Face verification: insightface's 10-fold protocol, TAR at a FAR, and a ROC picture.

The protocol (insightface ``eval/verification.py``, from FaceNet's LFW code): the embeddings of the two faces of a
pair are L2-normalised and compared by squared distance d in [0, 4]; the pairs are cut into 10 consecutive folds;
for each fold the threshold (of 0, 0.01, ..., 3.99) that is most accurate on the other nine is applied to it; the
result is the mean and std of the ten accuracies. TAR at FAR f: per fold, the threshold at which the nine folds'
false accept rate is f (linear interpolation over 0, 0.001, ..., 3.999), and the true accept rate it gives on the
tenth, averaged. insightface interpolates with scipy's ``interp1d``, which current scipy refuses when thresholds tie
in FAR (they always do); here ties keep their smallest threshold first, the one change to the protocol.

insightface's ``pca`` option is offered too (``pca=N``, default 0 as insightface's ``evaluate``): for each fold a
PCA of N components is fitted on the nine other folds' embeddings (both sides, no labels), both sides are projected
and L2-normalised again, and the accuracy, ROC and threshold of that fold use the projected distances; TAR@FAR
keeps the plain distances, as insightface's ``calculate_val`` does.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from ..registry import METRICS

ROC_THRESHOLDS = np.arange(0, 4, 0.01)
VAL_THRESHOLDS = np.arange(0, 4, 0.001)


def kfold(n: int, folds: int) -> list[np.ndarray]:
    """Test indices of ``folds`` consecutive folds of range(n); the first n % folds are one longer (sklearn's
    KFold without shuffling, which insightface uses)."""
    if n < folds:
        raise ValueError(f'face verification: {n} pairs cannot be cut into {folds} folds')
    sizes = np.full(folds, n // folds)
    sizes[:n % folds] += 1
    return np.split(np.arange(n), np.cumsum(sizes)[:-1])


def _rates(dist: np.ndarray, same: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tpr, fpr, accuracy) for each threshold (predict 'same' when d < threshold), as insightface counts them."""
    accept = dist[None, :] < thresholds[:, None]
    tp = (accept & same).sum(1)
    fp = (accept & ~same).sum(1)
    n_same, n_diff = same.sum(), (~same).sum()
    tpr = tp / n_same if n_same else np.zeros(len(thresholds))
    fpr = fp / n_diff if n_diff else np.zeros(len(thresholds))
    acc = (tp + (n_diff - fp)) / len(dist)
    return tpr, fpr, acc


def check_pca(pca: Any, where: str, pairs: int | None = None, folds: int = 10, dim: int | None = None) -> int:
    """``pca`` as an int >= 0, and with ``pairs`` and ``dim`` at most the embeddings of the smallest nine-fold part
    (both sides) and the embedding width; else a ValueError that starts with ``where``."""
    if isinstance(pca, bool) or not isinstance(pca, (int, np.integer)) or pca < 0:
        raise ValueError(f'{where}: pca must be an int >= 0 (0: no PCA, as insightface by default); got {pca!r}')
    if pairs is not None and dim is not None:
        fitted_on = 2 * (pairs - -(-pairs // folds))  # both sides of the pairs outside the largest fold
        if pca > min(fitted_on, dim):
            raise ValueError(f'{where}: pca={pca} components cannot be fitted on {fitted_on} embeddings of width '
                             f'{dim} (at most {min(fitted_on, dim)})')
    return int(pca)


def pca_distances(emb1: np.ndarray, emb2: np.ndarray, fit_on: np.ndarray, components: int) -> np.ndarray:
    """Squared distances of the pairs after insightface's per-fold PCA: fitted (centred, no whitening) on both
    sides of the pairs ``fit_on``, every embedding projected on the first ``components`` axes and L2-normalised
    (an embedding that projects to zero stays zero, as sklearn's ``normalize`` leaves it)."""
    fit = np.concatenate([emb1[fit_on], emb2[fit_on]])
    mean = fit.mean(0)
    axes = np.linalg.svd(fit - mean, full_matrices=False)[2][:components].T
    sides = []
    for emb in (emb1, emb2):
        projected = (emb - mean) @ axes
        norm = np.linalg.norm(projected, axis=1, keepdims=True)
        sides.append(projected / np.where(norm == 0, 1.0, norm))
    return ((sides[0] - sides[1]) ** 2).sum(1)


def verification_scores(emb1: np.ndarray, emb2: np.ndarray, issame: Sequence[bool], folds: int = 10,
                        far_targets: Sequence[float] = (1e-3, 1e-4), pca: int = 0) -> dict[str, Any]:
    """The protocol on L2-normalised embeddings (N, D) of the pairs' two sides.

    ``pca``: components of insightface's per-fold PCA (module docstring); 0 compares the embeddings as they are.
    Returns accuracy (fold mean), accuracy_std, fold_accuracy (folds,), best_threshold (mean over folds, as a
    squared distance; with ``pca`` a distance between projected embeddings), tpr/fpr (mean over folds at
    ROC_THRESHOLDS), and tar@far=F (mean, std, far reached) for each F the data allow: at least 1/F
    different-identity pairs in every nine-fold training part, and same and different pairs in every fold (a
    fold without same pairs has no acceptance rate; its 0 was averaged in, so a list sorted by kind, as LFW's
    pairsDevTest.txt, read TAR 0.5 for 1.0). ``far_skipped`` says, per F left out, why.
    """
    dist = ((emb1 - emb2) ** 2).sum(1)
    same = np.asarray(issame, dtype=bool)
    splits = kfold(len(dist), folds)
    pca = check_pca(pca, 'face verification', len(dist), folds, emb1.shape[1])
    accuracy, best, tprs, fprs = np.zeros(folds), np.zeros(folds), [], []
    for k, test in enumerate(splits):
        train = np.setdiff1d(np.arange(len(dist)), test)
        fold_dist = pca_distances(emb1, emb2, train, pca) if pca else dist
        best[k] = ROC_THRESHOLDS[np.argmax(_rates(fold_dist[train], same[train], ROC_THRESHOLDS)[2])]
        tpr, fpr, _ = _rates(fold_dist[test], same[test], ROC_THRESHOLDS)
        tprs.append(tpr)
        fprs.append(fpr)
        accuracy[k] = _rates(fold_dist[test], same[test], best[k:k + 1])[2][0]
    out = dict(accuracy=float(accuracy.mean()), accuracy_std=float(accuracy.std()), fold_accuracy=accuracy,
               best_threshold=float(best.mean()), tpr=np.mean(tprs, 0), fpr=np.mean(fprs, 0))
    out['far_skipped'] = {}
    one_kind = [k for k, t in enumerate(splits) if same[t].all() or not same[t].any()]
    for far in far_targets:
        if not same.any():
            out['far_skipped'][far] = 'there are no same-identity pairs'
        elif one_kind:
            out['far_skipped'][far] = (f'fold(s) {one_kind[:5]} hold pairs of one kind only (a list sorted by '
                                       'kind: shuffle it, or use folds that mix same and different pairs)')
        elif min(int((~same[np.setdiff1d(np.arange(len(dist)), t)]).sum()) for t in splits) * far < 1:
            out['far_skipped'][far] = 'too few different-identity pairs per fold to measure such a FAR'
        else:
            out[f'tar@far={far:g}'] = _tar_at_far(dist, same, splits, far)
    return out


def _tar_at_far(dist: np.ndarray, same: np.ndarray, splits: list[np.ndarray], far: float) -> tuple[float, ...]:
    tars, fars = [], []
    for test in splits:
        train = np.setdiff1d(np.arange(len(dist)), test)
        far_train = _rates(dist[train], same[train], VAL_THRESHOLDS)[1]
        if far_train.max() >= far:
            values, first = np.unique(far_train, return_index=True)
            threshold = np.interp(far, values, VAL_THRESHOLDS[first])
        else:
            threshold = 0.0
        tpr, fpr, _ = _rates(dist[test], same[test], np.array([threshold]))
        tars.append(tpr[0])
        fars.append(fpr[0])
    return float(np.mean(tars)), float(np.std(tars)), float(np.mean(fars))


def plot_roc(curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str, path: str) -> str:
    """The ROC of each named set ({label: (fpr, tpr)}; TAR against FAR, FAR on a log axis) in one PNG, written
    atomically."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from ..engine.atomic import save_figure
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for label, (fpr, tpr) in curves.items():
        keep = fpr > 0
        ax.semilogx(fpr[keep], tpr[keep], marker='.', lw=1, label=label)
    ax.set(xlabel='false accept rate', ylabel='true accept rate', title=title, ylim=(0, 1.01))
    ax.grid(alpha=0.3, which='both')
    if len(curves) > 1:
        ax.legend(fontsize='small')
    fig.tight_layout()
    return save_figure(fig, path)


@METRICS.register_module()
class FaceVerificationMetric(BaseMetric):
    """10-fold verification accuracy (insightface's protocol) over FaceRecognizer 'predict' outputs on a
    FaceVerificationDataset (dicts with 'embedding', 'pair_index', 'pair_side', 'is_same').

    Reports accuracy, accuracy_std, best_threshold (as a cosine similarity: 1 - d/2, for tools/face/verify.py) and
    tar@far=F for each F in ``far_targets`` that the pairs allow; with ``roc_file`` also writes the ROC there.
    Predictions from several sets (tagged 'verification_set': a FaceVerificationDataset over several .bin files,
    as arcface_torch's val_targets) are scored apart, as '<set>/accuracy' etc., with 'accuracy' their mean.
    Set ``flip_test=True`` on the model for insightface's flipped-and-summed embeddings.

    Args:
        folds: number of folds (10). far_targets: FARs for TAR@FAR. roc_file: PNG path or None.
        pca: insightface's per-fold PCA (module docstring): components fitted on the nine other folds' embeddings
            before each fold's threshold; 0 (the default, as insightface's evaluate) compares the embeddings as
            they are. best_threshold is then a similarity of projected embeddings, not one for verify.py.
        collect_device / prefix: mmengine BaseMetric options (prefix default 'verification').
    """

    default_prefix = 'verification'

    def __init__(self, folds: int = 10, far_targets: Sequence[float] = (1e-3, 1e-4), roc_file: str | None = None,
                 pca: int = 0, collect_device: str = 'cpu', prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not isinstance(folds, int) or folds < 2:
            raise ValueError(f'FaceVerificationMetric: folds must be an int >= 2; got {folds!r}')
        if isinstance(far_targets, (int, float)):
            raise ValueError(f'FaceVerificationMetric: far_targets must be a list of rates, e.g. (1e-3, 1e-4); got '
                             f'{far_targets!r}')
        if not all(isinstance(f, (int, float)) and not isinstance(f, bool) and 0 < f < 1 for f in far_targets):
            raise ValueError(f'FaceVerificationMetric: far_targets must lie in (0, 1); got {far_targets!r}')
        self.folds, self.far_targets, self.roc_file = folds, tuple(far_targets), roc_file
        self.pca = check_pca(pca, 'FaceVerificationMetric')

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for i, sample in enumerate(data_samples):
            if not isinstance(sample, dict) or not {'embedding', 'pair_index', 'pair_side', 'is_same'} <= set(sample):
                got = sorted(sample) if isinstance(sample, dict) else type(sample).__name__
                raise ValueError(f"FaceVerificationMetric: prediction {i} must have 'embedding', 'pair_index', "
                                 f"'pair_side', 'is_same' (FaceRecognizer on a FaceVerificationDataset whose "
                                 f"PackInputs keeps those meta_keys); got {got}")
            self.results.append((str(sample.get('verification_set', '')), int(sample['pair_index']),
                                 int(sample['pair_side']), bool(sample['is_same']),
                                 torch.as_tensor(sample['embedding']).detach().cpu().double().numpy()))

    def compute_metrics(self, results: list) -> dict[str, float]:
        by_set: dict[str, list] = {}
        for name, *rest in results:
            by_set.setdefault(name, []).append(rest)
        declared = [n for n in (self.dataset_meta or {}).get('verification_sets', []) if n in by_set]
        names = declared + sorted(n for n in by_set if n not in declared)
        if len(names) <= 1:  # one set: its figures unprefixed, as before several sets were possible
            name = names[0] if names else ''
            scores = self._score(name, by_set.get(name, []))
            if self.roc_file:
                plot_roc({'': (scores['fpr'], scores['tpr'])},
                         f'{scores["pairs"]} pairs, accuracy {scores["accuracy"]:.4f}', self.roc_file)
            return self._figures(scores)
        # several sets (arcface_torch's val_targets): each under its name, and their mean accuracy first, the
        # figure a 'save_best' of 'auto' follows
        every = {name: self._score(name, by_set[name]) for name in names}
        metrics = dict(accuracy=float(np.mean([s['accuracy'] for s in every.values()])))
        for name, scores in every.items():
            metrics.update({f'{name}/{key}': value for key, value in self._figures(scores).items()})
        if self.roc_file:
            plot_roc({f'{n} {s["accuracy"]:.4f}': (s['fpr'], s['tpr']) for n, s in every.items()},
                     f'{len(names)} verification sets', self.roc_file)
        return metrics

    def _score(self, name: str, results: list) -> dict[str, Any]:
        """The protocol on one set's (pair_index, pair_side, is_same, embedding) results."""
        where = f' in set {name!r}' if name else ''
        sides: dict[tuple[int, int], tuple[bool, np.ndarray]] = {}
        for index, side, same, emb in results:  # a distributed sampler may repeat samples to even out the ranks
            seen = sides.setdefault((index, side), (same, emb))
            if seen[0] != same or not np.array_equal(seen[1], emb, equal_nan=True):
                raise ValueError(f'FaceVerificationMetric: pair {index} side {side}{where} arrived twice with another '
                                 f'{"same/different flag" if seen[0] != same else "embedding"} (two sets sharing a '
                                 f'name in one evaluation?)')
        count = max(i for i, _ in sides) + 1 if sides else 0
        missing = [i for i in range(count) if (i, 0) not in sides or (i, 1) not in sides]
        if not sides or missing:
            raise ValueError(f'FaceVerificationMetric: {len(missing)} of {count} pairs{where} lack an image '
                             f'(first: pair {missing[0] if missing else 0}); evaluate the whole verification set')
        emb1 = np.stack([sides[(i, 0)][1] for i in range(count)])
        emb2 = np.stack([sides[(i, 1)][1] for i in range(count)])
        broken = [i for i in range(count) if not (np.isfinite(emb1[i]).all() and np.isfinite(emb2[i]).all())]
        if broken:  # NaN distances pass no threshold: a diverged model scored 0.5, as a coin would
            raise ValueError(f'FaceVerificationMetric: {len(broken)} of {count} pairs{where} have non-finite '
                             f'embeddings (first: pair {broken[0]}); the model has diverged (NaN or inf)')
        for emb in (emb1, emb2):  # a zero embedding stays zero, as sklearn's normalize (insightface) leaves it
            norm = np.linalg.norm(emb, axis=1, keepdims=True)
            emb /= np.where(norm == 0, 1.0, norm)
        check_pca(self.pca, f'FaceVerificationMetric{where}', count, self.folds, emb1.shape[1])
        scores = verification_scores(emb1, emb2, [sides[(i, 0)][0] for i in range(count)], self.folds,
                                     self.far_targets, self.pca)
        for far, reason in scores['far_skipped'].items():
            print_log(f'FaceVerificationMetric: TAR@FAR {far:g} not reported{where} ({count} pairs): {reason}',
                      logger='current')
        return dict(scores, pairs=count)

    @staticmethod
    def _figures(scores: dict[str, Any]) -> dict[str, float]:
        metrics = dict(accuracy=scores['accuracy'], accuracy_std=scores['accuracy_std'],
                       best_threshold=1 - scores['best_threshold'] / 2)
        metrics.update({key: value[0] for key, value in scores.items() if key.startswith('tar@far')})
        return metrics
