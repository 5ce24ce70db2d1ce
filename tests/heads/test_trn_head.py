"""TRNHead: mmaction2's temporal relation head, its scores, its random tuples, and its recognizer checkpoints."""
import sys
from pathlib import Path

import pytest
import torch

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared mmaction2 reference
import mmaction2_reference as ref  # noqa: E402


def _head(**kwargs):
    return MODELS.build(dict(dict(type='TRNHead', num_classes=5, in_channels=16, dropout_ratio=0.0), **kwargs))


@pytest.mark.parametrize('relation_type', ['TRN', 'TRNMultiScale'])
@torch.no_grad()
def test_scores_equal_mmaction2s_trn_head(relation_type, randomise):
    theirs = randomise(ref.TRNHead(5, 16, num_segments=3, relation_type=relation_type, hidden_dim=8))
    ours = _head(num_segments=3, relation_type=relation_type, hidden_dim=8).eval()
    ours.load_state_dict({k.replace('fc_cls.', 'fc.'): v for k, v in theirs.state_dict().items()}, strict=True)
    frames = torch.randn(4 * 3, 16, 2, 2)  # 4 clips of 3 frames
    torch.testing.assert_close(ours(frames), theirs(frames), rtol=1e-5, atol=1e-5)


def test_multiscale_scores_the_clip_and_up_to_three_tuples_per_size():
    head = _head(num_segments=5).eval()
    calls = [0] * len(head.consensus.fc_fusion_scales)
    for i, mlp in enumerate(head.consensus.fc_fusion_scales):
        mlp.register_forward_hook(lambda *args, i=i: calls.__setitem__(i, calls[i] + 1))
    assert head.consensus.scales == (5, 4, 3, 2)
    head(torch.randn(2 * 5, 16, 1, 1))
    assert calls == [1, 3, 3, 3]  # tuples of 4, 3, 2 of the 5 frames: 5, 10, 10 exist, three drawn of each


@pytest.mark.parametrize('relation_type', ['TRN', 'TRNMultiScale'])
@torch.no_grad()
def test_frame_order_changes_the_score(relation_type, randomise):
    head = randomise(_head(num_segments=3, relation_type=relation_type))
    frames = torch.randn(3, 16, 2, 2)
    assert not torch.allclose(head(frames), head(frames[[2, 0, 1]]), atol=1e-4)


@torch.no_grad()
def test_mmaction2_trn_recognizer_checkpoint_gives_its_scores(tmp_path, randomise):
    cfg = dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18, base_channels=8, partial_bn=True),
               cls_head=dict(type='TRNHead', num_classes=5, num_segments=3, relation_type='TRN'))
    source = randomise(MODELS.build(cfg)).eval()
    state = {ref.to_mmaction2_keys(k): v for k, v in source.state_dict().items()}
    assert 'cls_head.consensus.classifier.1.weight' in state and 'cls_head.fc_cls.weight' in state
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'trn.pth')
    ours = MODELS.build(cfg)
    report = load_pretrained(ours, str(tmp_path / 'trn.pth'), strict=True)
    assert report.source == 'mmaction2' and not report.missing and not report.unexpected
    videos = torch.rand(2, 3, 3, 32, 32)
    torch.testing.assert_close(ours.eval()(videos), source(videos), rtol=1e-5, atol=1e-5)


def test_a_checkpoint_without_the_relation_mlps_reports_them_missing(tmp_path, randomise):
    cfg = dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18, base_channels=8),
               cls_head=dict(type='TRNHead', num_classes=5, num_segments=3, relation_type='TRN'))
    state = {ref.to_mmaction2_keys(k): v for k, v in MODELS.build(cfg).state_dict().items()
             if '.consensus.' not in k}
    torch.save({'state_dict': state, 'meta': {'mmaction2_version': '1.2.0'}}, tmp_path / 'tsn_like.pth')
    report = load_pretrained(MODELS.build(cfg), str(tmp_path / 'tsn_like.pth'))
    assert sorted(report.missing) == ['head.consensus.classifier.1.bias', 'head.consensus.classifier.1.weight',
                                      'head.consensus.classifier.3.bias', 'head.consensus.classifier.3.weight']


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_segments=1), 'num_segments must be an integer >= 2'),
    (dict(relation_type='TSN'), 'relation_type must be one of'),
    (dict(hidden_dim=0), 'hidden_dim must be an integer >= 1'),
    (dict(num_classes=0), 'num_classes must be an integer >= 1'),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _head(**kwargs)


def test_rows_that_are_not_whole_clips_are_named():
    with pytest.raises(ValueError, match='7 frame features do not split into clips of 8'):
        _head()(torch.randn(7, 16, 1, 1))
