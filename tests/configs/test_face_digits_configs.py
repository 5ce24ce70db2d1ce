"""The digits open-set configs (make demo-face): the model has one class per identity the training data makes, and
training composes identities from digits 0-6 only (7-9 are the verification identities)."""
from pathlib import Path

import pytest
from mmengine.config import Config

import resbackbones  # noqa: F401  (registration)
from resbackbones.registry import DATASETS

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('head', ['arcface', 'cosface', 'softmax'])
def test_classes_match_the_composed_identities_of_digits_0_to_6(head, monkeypatch):
    monkeypatch.chdir(REPO)  # the configs name data/ relative to the checkout (make test fetches it)
    cfg = Config.fromfile(str(REPO / 'configs' / 'arcface' / f'iresnet-tiny_digits-openset_{head}.py'))
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert dataset.dataset.metainfo['classes'] == tuple('0123456')
    assert dataset.num_classes == cfg.model.num_classes == 7 + 4 * 7 * 6
    digits_named = {c for name in dataset.metainfo['classes'] for c in name if c.isdigit()}
    assert digits_named == set('0123456')
    assert 'pairs_7-9' in cfg.test_dataloader.dataset.bin_file
