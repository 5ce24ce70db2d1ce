"""ImageClassifier's arguments are checked when it is built, not at its first training step."""
from __future__ import annotations

import pytest
from torch import nn

from resbackbones.models.classifier import ImageClassifier

BACKBONE = dict(type='ResNet', depth=18, base_channels=8)


@pytest.mark.parametrize('kwargs, message', [
    (dict(label_smoothing=-0.1), r'label_smoothing must be in \[0, 1\); got -0.1'),  # trained as plain CE
    (dict(label_smoothing=1.5), r'label_smoothing must be in \[0, 1\); got 1.5'),  # torch's error at step 1
    (dict(dropout=-0.5), r'dropout must be a probability in \[0, 1\); got -0.5'),  # meant no dropout
    (dict(dropout=1.0), r'dropout must be a probability in \[0, 1\); got 1.0'),
    (dict(backbone=nn.Conv2d(3, 8, 3)), 'backbone Conv2d declares no feature_specs'),  # a bare AttributeError
])
def test_bad_arguments_are_named_when_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImageClassifier(**{'backbone': BACKBONE, 'num_classes': 5, **kwargs})


def test_settings_in_range_build():
    model = ImageClassifier(BACKBONE, 5, label_smoothing=0.1, dropout=0.2)
    assert model.label_smoothing == 0.1 and model.head.dropout.p == 0.2
