"""FaceVerificationMetric: insightface's 10-fold numbers on the same embeddings (its code written out in
tests/insightface_reference.py), pairs rebuilt from tags in any order, TAR@FAR only where the pairs allow, ROC PNG."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from resbackbones.evaluation import FaceVerificationMetric, verification_scores
from resbackbones.evaluation.face_verification import kfold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from insightface_reference import insightface_calculate_val, insightface_evaluate  # noqa: E402


def _pairs(n: int, seed: int, separation: float = 0.6):
    """Normalised embeddings of n pairs (rows 2k, 2k+1), half same (close), half different, interleaved."""
    rng = np.random.default_rng(seed)
    issame = rng.random(n) < 0.5
    first = rng.normal(size=(n, 16))
    second = np.where(issame[:, None], first + rng.normal(scale=separation, size=(n, 16)), rng.normal(size=(n, 16)))
    emb = np.empty((2 * n, 16))
    emb[0::2], emb[1::2] = first, second
    return emb / np.linalg.norm(emb, axis=1, keepdims=True), issame.tolist()


@pytest.mark.parametrize('n, seed, separation, pca', [(600, 0, 0.6, 0), (613, 1, 1.2, 0), (57, 2, 2.0, 0),
                                                       (600, 0, 0.6, 3), (613, 1, 1.2, 12), (57, 2, 2.0, 5)])
def test_equals_insightfaces_protocol(n, seed, separation, pca):
    emb, issame = _pairs(n, seed, separation)
    tpr, fpr, accuracy = insightface_evaluate(emb, issame, pca=pca)
    ours = verification_scores(emb[0::2], emb[1::2], issame, pca=pca)
    if pca:  # the per-fold projection changed the figures, so the comparison above tests it
        assert not np.array_equal(ours['fold_accuracy'], verification_scores(emb[0::2], emb[1::2], issame)[
            'fold_accuracy'])
    np.testing.assert_array_equal(ours['fold_accuracy'], accuracy)
    np.testing.assert_allclose(ours['tpr'], tpr)
    np.testing.assert_allclose(ours['fpr'], fpr)
    assert ours['accuracy'] == np.mean(accuracy) and ours['accuracy_std'] == np.std(accuracy)
    assert 0.5 < ours['accuracy'] < 1.0  # neither trivial nor perfect: the thresholds matter


@pytest.mark.parametrize('n, seed, separation, far', [(3000, 0, 0.9, 1e-2), (3000, 1, 1.3, 1e-3), (601, 2, 0.7, 1e-2)])
def test_tar_at_far_equals_insightfaces_calculate_val(n, seed, separation, far):
    emb, issame = _pairs(n, seed, separation)
    reference = insightface_calculate_val(emb, issame, far)
    ours = verification_scores(emb[0::2], emb[1::2], issame, far_targets=(far,))[f'tar@far={far:g}']
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-12)
    assert 0.05 < ours[0] < 0.99 and 0 < ours[2] < 3 * far  # a real operating point, not a corner of the ROC


def test_pca_keeps_tar_at_far_on_the_plain_distances():
    """insightface's calculate_val never projects, whatever evaluate's pca."""
    emb, issame = _pairs(1200, 9, 1.0)
    plain = verification_scores(emb[0::2], emb[1::2], issame, far_targets=(1e-2,))
    projected = verification_scores(emb[0::2], emb[1::2], issame, far_targets=(1e-2,), pca=4)
    assert projected['tar@far=0.01'] == plain['tar@far=0.01'] and projected['accuracy'] != plain['accuracy']


@pytest.mark.parametrize('pca, message', [(-1, 'pca must be an int >= 0'), (True, 'pca must be an int >= 0'),
                                          (2.0, 'pca must be an int >= 0'), (17, r'pca=17 .* width 16 \(at most 16\)')])
def test_bad_pca_is_named(pca, message):
    emb, issame = _pairs(50, 0)
    with pytest.raises(ValueError, match=f'face verification: {message}'):
        verification_scores(emb[0::2], emb[1::2], issame, pca=pca)


def test_metric_passes_pca_and_names_a_set_too_small_for_it():
    emb, issame = _pairs(300, 10, 1.0)
    metric = FaceVerificationMetric(far_targets=(), pca=6)
    metric.process({}, _predictions(emb, issame, range(len(emb))))
    out = metric.compute_metrics(metric.results)
    assert out['accuracy'] == pytest.approx(verification_scores(emb[0::2], emb[1::2], issame, pca=6)['accuracy'])
    with pytest.raises(ValueError, match='FaceVerificationMetric: pca must be an int >= 0'):
        FaceVerificationMetric(pca=-2)
    small = FaceVerificationMetric(folds=2, far_targets=(), pca=16)  # 10 pairs, 5 per fold: PCA fits on 10
    small.process({}, _predictions(emb[:20], issame[:10], range(20), verification_set='lfw'))
    with pytest.raises(ValueError, match=r"FaceVerificationMetric in set 'lfw': pca=16 components cannot be fitted "
                                         r"on 10 embeddings of width 16 \(at most 10\)"):
        small.compute_metrics(small.results)


def test_folds_are_sklearns_kfold():
    from sklearn.model_selection import KFold
    for n in (10, 57, 600):
        want = [test for _, test in KFold(10).split(np.arange(n))]
        assert all(np.array_equal(a, b) for a, b in zip(kfold(n, 10), want))


def _predictions(emb, issame, order, **tags):
    return [dict(embedding=torch.tensor(emb[i]), pair_index=i // 2, pair_side=i % 2, is_same=issame[i // 2], **tags)
            for i in order]


def test_metric_rebuilds_pairs_in_any_order_and_writes_the_roc(tmp_path):
    emb, issame = _pairs(3000, 3)
    metric = FaceVerificationMetric(far_targets=(1e-2, 1e-3, 1e-4), roc_file=str(tmp_path / 'roc.png'))
    order = np.random.default_rng(0).permutation(len(emb))
    for chunk in np.array_split(order, 7):
        metric.process({}, _predictions(emb * 3.0, issame, chunk))  # unnormalised: the metric normalises
    out = metric.compute_metrics(metric.results)
    want = verification_scores(emb[0::2], emb[1::2], issame, far_targets=(1e-2, 1e-3))
    assert out['accuracy'] == pytest.approx(want['accuracy']) and out['accuracy_std'] == pytest.approx(
        want['accuracy_std'])
    assert out['best_threshold'] == pytest.approx(1 - want['best_threshold'] / 2)
    # ~1500 different pairs: 1350 per training part allow FAR 1e-2 and 1e-3, not 1e-4
    assert set(k for k in out if k.startswith('tar')) == {'tar@far=0.01', 'tar@far=0.001'}
    assert out['tar@far=0.01'] == pytest.approx(want['tar@far=0.01'][0]) and 0 < out['tar@far=0.001'] <= \
        out['tar@far=0.01'] <= 1
    assert want['tar@far=0.01'][2] <= 0.02  # the false accept rate reached on the held-out folds
    assert (tmp_path / 'roc.png').read_bytes()[:4] == b'\x89PNG'


def test_missing_half_of_a_pair_is_named():
    emb, issame = _pairs(20, 0)
    metric = FaceVerificationMetric()
    metric.process({}, _predictions(emb, issame, range(len(emb) - 1)))
    with pytest.raises(ValueError, match=r'1 of 20 pairs lack an image \(first: pair 19\)'):
        metric.compute_metrics(metric.results)


def test_a_prediction_without_pair_tags_is_named():
    with pytest.raises(ValueError, match=r"prediction 0 must have 'embedding', 'pair_index'"):
        FaceVerificationMetric().process({}, [dict(embedding=torch.zeros(4), gt_label=1)])


def test_several_sets_are_scored_apart_in_any_order(tmp_path):
    sets = {'lfw': _pairs(600, 4, 0.6), 'cfp_fp': _pairs(400, 5, 1.5), 'agedb_30': _pairs(300, 6, 1.0)}
    predictions = [p for name, (emb, issame) in sets.items()
                   for p in _predictions(emb, issame, range(len(emb)), verification_set=name)]
    metric = FaceVerificationMetric(far_targets=(1e-2,), roc_file=str(tmp_path / 'roc.png'))
    metric.dataset_meta = dict(verification_sets=['lfw', 'cfp_fp', 'agedb_30'])
    for chunk in np.array_split(np.random.default_rng(1).permutation(len(predictions)), 5):
        metric.process({}, [predictions[i] for i in chunk])  # sets interleaved, pair indices shared between them
    out = metric.compute_metrics(metric.results)
    assert list(out)[0] == 'accuracy' and [k for k in out if k.endswith('/accuracy')] == \
        ['lfw/accuracy', 'cfp_fp/accuracy', 'agedb_30/accuracy']  # the order of val_targets
    for name, (emb, issame) in sets.items():
        want = verification_scores(emb[0::2], emb[1::2], issame, far_targets=(1e-2,))
        assert out[f'{name}/accuracy'] == pytest.approx(want['accuracy'])
        assert out[f'{name}/tar@far=0.01'] == pytest.approx(want['tar@far=0.01'][0])
    accuracies = [out[f'{name}/accuracy'] for name in sets]
    assert len(set(accuracies)) == 3 and out['accuracy'] == pytest.approx(np.mean(accuracies))
    assert (tmp_path / 'roc.png').read_bytes()[:4] == b'\x89PNG'


def test_a_half_pair_missing_from_one_set_names_the_set():
    emb, issame = _pairs(20, 0)
    metric = FaceVerificationMetric()
    metric.process({}, _predictions(emb, issame, range(len(emb)), verification_set='lfw'))
    metric.process({}, _predictions(emb, issame, range(1, len(emb)), verification_set='cfp_fp'))
    with pytest.raises(ValueError, match=r"1 of 20 pairs in set 'cfp_fp' lack an image \(first: pair 0\)"):
        metric.compute_metrics(metric.results)


def test_non_finite_embeddings_are_named_not_scored():
    """NaN distances pass no threshold: a diverged model scored 0.5 and a threshold, with no error."""
    emb, issame = _pairs(100, 0)
    emb[7, 3] = np.nan
    metric = FaceVerificationMetric()
    metric.process({}, _predictions(emb, issame, range(len(emb))))
    with pytest.raises(ValueError, match=r'1 of 100 pairs have non-finite embeddings \(first: pair 3\)'):
        metric.compute_metrics(metric.results)


def test_a_repeat_must_agree_with_the_first_delivery():
    """A sampler's padding repeats samples exactly (accepted); a repeat with another flag or embedding (two sets of
    one name) overwrote the first, mixing sides of different pairs."""
    emb, issame = _pairs(40, 0)
    metric = FaceVerificationMetric(far_targets=())
    metric.process({}, _predictions(emb, issame, range(len(emb))) + _predictions(emb, issame, range(6)))
    assert 0 <= metric.compute_metrics(metric.results)['accuracy'] <= 1
    flipped = [not s for s in issame]
    metric.process({}, _predictions(emb, flipped, range(2)))
    with pytest.raises(ValueError, match='pair 0 side 0 arrived twice with another same/different flag'):
        metric.compute_metrics(metric.results)


def test_pairs_sorted_by_kind_give_no_tar_rather_than_a_halved_one(caplog):
    """500 same then 500 different (LFW's pairsDevTest.txt): folds without same pairs averaged a TAR of 0 in, so
    well-separated embeddings read TAR 0.5 (insightface divides by zero there)."""
    emb, issame = _pairs(2000, 0)
    order = np.argsort(~np.asarray(issame), kind='stable')  # the same pairs first
    pairs = emb.reshape(-1, 2, emb.shape[1])[order]
    sorted_same = [issame[i] for i in order]
    out = verification_scores(pairs[:, 0], pairs[:, 1], sorted_same, far_targets=(1e-2,))
    assert 'tar@far=0.01' not in out and 'one kind only' in out['far_skipped'][1e-2]
    metric = FaceVerificationMetric(far_targets=(1e-2,))
    metric.process({}, _predictions(pairs.reshape(-1, emb.shape[1]), sorted_same, range(2 * len(pairs))))
    with caplog.at_level('INFO'):
        assert not [k for k in metric.compute_metrics(metric.results) if k.startswith('tar')]


def test_a_zero_embedding_stays_zero_as_insightface_normalises_it():
    """0/0 made NaN distances, which pass no threshold: accuracy 0.75 where insightface's normalize gives 0.95."""
    emb, issame = _pairs(40, 0)
    emb = emb.copy()
    zeroed = [i for i in range(0, 40, 2) if issame[i // 2]][:4]
    emb[zeroed] = 0
    emb[[i + 1 for i in zeroed]] = 0
    metric = FaceVerificationMetric(far_targets=())
    metric.process({}, _predictions(emb, issame, range(len(emb))))
    norm = np.linalg.norm(emb, axis=1, keepdims=True)
    unit = emb / np.where(norm == 0, 1, norm)
    want = verification_scores(unit[0::2], unit[1::2], issame, far_targets=())
    assert metric.compute_metrics(metric.results)['accuracy'] == pytest.approx(want['accuracy'])


def test_no_tar_without_same_pairs_and_far_targets_must_be_a_list():
    emb, _ = _pairs(200, 0)
    metric = FaceVerificationMetric(far_targets=(0.1,))
    metric.process({}, _predictions(emb, [False] * 200, range(len(emb))))
    assert not [k for k in metric.compute_metrics(metric.results) if k.startswith('tar')]  # was tar@far=0.1: 0.0
    with pytest.raises(ValueError, match=r'far_targets must be a list of rates, e.g. \(1e-3, 1e-4\); got 0.001'):
        FaceVerificationMetric(far_targets=1e-3)  # a bare TypeError before
    with pytest.raises(ValueError, match=r"far_targets must lie in \(0, 1\); got \('0.001',\)"):
        FaceVerificationMetric(far_targets=('0.001',))
