"""KDLoss: zero when the student matches the teacher, the T^2-scaled KL otherwise, bad arguments named."""
import pytest
import torch
import torch.nn.functional as F

from resbackbones.losses import KDLoss


def test_zero_at_match_and_kl_formula():
    teacher = torch.randn(4, 10)
    assert KDLoss(temperature=3.0)(teacher.clone(), teacher).item() == pytest.approx(0.0, abs=1e-6)
    student = torch.randn(4, 10, requires_grad=True)
    t = 2.0
    p = F.softmax(teacher / t, dim=1)
    expected = 0.5 * t * t * (p * (p.log() - F.log_softmax(student / t, dim=1))).sum(dim=1).mean()
    got = KDLoss(temperature=t, weight=0.5)(student, teacher)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    got.backward()
    assert student.grad.abs().sum() > 0


@pytest.mark.parametrize('kwargs, message', [(dict(temperature=0), 'temperature must be a finite number > 0'),
                                             (dict(weight=-1), 'weight must be a finite number >= 0'),
                                             # built, and every loss was NaN / inf
                                             (dict(temperature=float('nan')), 'temperature must be a finite'),
                                             (dict(weight=float('inf')), 'weight must be a finite')])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        KDLoss(**kwargs)


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match='differ in shape'):
        KDLoss()(torch.randn(2, 10), torch.randn(2, 5))
