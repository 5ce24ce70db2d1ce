"""Partial FC: sharded over 2 gloo processes it gives the unsharded head's loss and gradients (all classes, and the
sampled classes); in one process it is the full head; bad settings are named."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F

from resbackbones.heads import MarginHead, PartialFCHead

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared gloo helpers
from gloo import free_port, gloo_group  # noqa: E402

NUM_CLASSES, DIM, BATCH = 11, 8, 5  # 11 classes over 2 ranks: shards of 6 and 5


def _data():
    g = torch.Generator().manual_seed(0)
    weight = torch.randn(NUM_CLASSES, DIM, generator=g)
    embeddings = torch.randn(2 * BATCH, DIM, generator=g)
    labels = torch.tensor([0, 3, 5, 6, 10, 2, 7, 7, 9, 1])
    return weight, embeddings, labels


def _worker(rank: int, port: int, out: str, sample_rate: float, margins) -> None:
    with gloo_group(rank, port):
        weight, embeddings, labels = _data()
        torch.manual_seed(rank)  # the ranks sample differently
        head = PartialFCHead(DIM, NUM_CLASSES, scale=16.0, margins=margins, sample_rate=sample_rate)
        with torch.no_grad():
            head.weight.copy_(weight[head.class_start:head.class_start + head.num_local])
        local = embeddings[rank * BATCH:(rank + 1) * BATCH].clone().requires_grad_(True)
        loss = head.loss(local, labels[rank * BATCH:(rank + 1) * BATCH])
        loss.backward()
        torch.save(dict(loss=loss.detach(), weight_grad=head.weight.grad, embedding_grad=local.grad,
                        start=head.class_start, sampled=head.sampled_classes), f'{out}/rank{rank}.pt')


@pytest.mark.slow
@pytest.mark.parametrize('sample_rate, margins', [(1.0, (1, 0.5, 0)), (0.5, (1, 0, 0.35))])
def test_two_gloo_ranks_equal_the_unsharded_head(tmp_path, sample_rate, margins):
    mp.start_processes(_worker, args=(free_port(), str(tmp_path), sample_rate, margins), nprocs=2,
                       start_method='spawn')
    ranks = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True) for r in range(2)]
    weight, embeddings, labels = _data()
    sampled = torch.cat([r['sampled'] for r in ranks])  # every rank's centres in this step, global ids
    assert set(labels.tolist()) <= set(sampled.tolist())
    if sample_rate < 1:
        assert len(sampled) < NUM_CLASSES
    full = MarginHead(DIM, len(sampled), scale=16.0, margins=margins)
    with torch.no_grad():
        full.weight.copy_(weight[sampled])
    e = embeddings.clone().requires_grad_(True)
    remapped = torch.searchsorted(sampled, labels)
    loss = F.cross_entropy(full(e, remapped), remapped)
    loss.backward()
    for r, rank in enumerate(ranks):
        torch.testing.assert_close(rank['loss'], loss.detach())
        # the backbone gradient is W x the full head's, undone by DDP's average over the W ranks
        torch.testing.assert_close(rank['embedding_grad'] / 2, e.grad[r * BATCH:(r + 1) * BATCH])
        grad = torch.zeros(NUM_CLASSES, DIM).index_put_((sampled,), full.weight.grad)
        shard = slice(rank['start'], rank['start'] + len(rank['weight_grad']))
        torch.testing.assert_close(rank['weight_grad'], grad[shard])


@pytest.mark.parametrize('threshold', [0.0, 0.1])
def test_one_process_is_the_full_head(threshold):
    weight, embeddings, labels = _data()
    head = PartialFCHead(DIM, NUM_CLASSES, scale=16.0, interclass_filtering_threshold=threshold)
    full = MarginHead(DIM, NUM_CLASSES, scale=16.0, interclass_filtering_threshold=threshold)
    with torch.no_grad():
        head.weight.copy_(weight)
        full.weight.copy_(weight)
    torch.testing.assert_close(head.loss(embeddings, labels), full.loss(embeddings, labels))
    if threshold:  # the filter was active: the loss differs from the unfiltered head's
        plain = MarginHead(DIM, NUM_CLASSES, scale=16.0)
        with torch.no_grad():
            plain.weight.copy_(weight)
        assert not torch.allclose(full.loss(embeddings, labels), plain.loss(embeddings, labels))


def test_one_process_equals_the_full_head_where_the_softmax_saturates():
    # at s=64 the target probability of a fresh head fell below 1e-30: the clamp capped those rows at 69.08
    weight, embeddings, labels = _data()
    head, full = PartialFCHead(DIM, NUM_CLASSES, scale=256.0), MarginHead(DIM, NUM_CLASSES, scale=256.0)
    with torch.no_grad():
        head.weight.copy_(weight)
        full.weight.copy_(weight)
    expected = full.loss(embeddings, labels)
    assert expected > 80  # some rows past the cap
    torch.testing.assert_close(head.loss(embeddings, labels), expected)


@pytest.mark.parametrize('kwargs, message', [(dict(sample_rate=0.0), 'sample_rate must be in'),
                                             (dict(num_classes=1), 'num_classes >= 2')])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PartialFCHead(**{'embedding_dim': 4, 'num_classes': 10, **kwargs})


def test_label_beyond_num_classes_is_named():
    with pytest.raises(ValueError, match=r'labels must be in \[0, 9\] \(num_classes=10\); got 0..12'):
        PartialFCHead(4, 10).loss(torch.randn(2, 4), torch.tensor([0, 12]))


def test_recognizer_keeps_the_shards_away_from_ddp():
    from resbackbones.registry import MODELS
    model = MODELS.build(dict(type='FaceRecognizer', backbone=dict(type='IResNet', depth=18, base_channels=8),
                              num_classes=10, input_size=(32, 32), embedding=dict(embedding_dim=16),
                              margin_head=dict(type='PartialFCHead', sample_rate=0.5)))
    assert model._ddp_params_and_buffers_to_ignore == ['margin_head.weight']
    loss = model(torch.rand(4, 3, 32, 32), torch.tensor([0, 1, 2, 9]), mode='loss')['loss']
    loss.backward()
    assert torch.isfinite(loss) and model.margin_head.weight.grad.abs().sum() > 0
