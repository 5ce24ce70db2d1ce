"""Ground-truth labels out of each form a dataloader hands them in (models/labels.py)."""
from __future__ import annotations

import pytest
import torch

from resbackbones.models.labels import gt_labels, unlabelled, with_labels
from resbackbones.registry import MODELS

DEFAULT_COLLATE = {'gt_label': torch.tensor([2, 0]), 'img_path': ['a.png', 'b.png']}  # mmpretrain's default_collate


@pytest.mark.parametrize('data_samples', [
    DEFAULT_COLLATE,
    {'gt_label': [2, 0], 'img_path': ['a.png', 'b.png']},  # pseudo_collate
    [dict(gt_label=2, img_path='a.png'), dict(gt_label=0, img_path='b.png')],
    torch.tensor([2, 0]),
])
def test_every_collated_form_scores_as_labelled(data_samples):
    # default_collate's stacked labels read as 'no labels': predict left gt_label out and validation stopped
    assert not unlabelled(data_samples)
    assert with_labels([{}, {}], data_samples, torch.device('cpu')) == [{'gt_label': 2}, {'gt_label': 0}]


def test_an_image_classifier_predicts_with_labels_from_default_collate():
    model = MODELS.build(dict(type='ImageClassifier', num_classes=3,
                              backbone=dict(type='ResNet', depth=18, base_channels=8))).eval()
    with torch.no_grad():
        preds = model(torch.rand(2, 3, 32, 32), DEFAULT_COLLATE, mode='predict')
    assert [p['gt_label'] for p in preds] == [2, 0]


def test_one_hot_labels_of_a_single_label_model_are_refused():
    # view(-1) spread a (2, 3) one-hot tensor over six 'samples' and zip kept the first two: [2, 2] read as [0, 0]
    with pytest.raises(ValueError, match=r'labels of shape \(2, 3\) hold 3 values per sample; .*multi_class=True'):
        gt_labels(torch.tensor([[0, 0, 1.], [0, 0, 1.]]), torch.device('cpu'))


def test_a_vector_label_in_a_list_of_samples_is_named():
    """A multi_class dataset's multi-hot vector for a single-label head: int() raised 'only one element tensors'."""
    samples = [dict(gt_label=torch.tensor(1)), dict(gt_label=torch.tensor([0., 1, 0, 0]), filename='v.mp4')]
    with pytest.raises(ValueError, match=r'RecognizerAudio: labels of v.mp4 hold 4 values per sample; .*multi_class'):
        gt_labels(samples, torch.device('cpu'), 4, 'RecognizerAudio')
    assert gt_labels([dict(gt_label=torch.tensor([3])), dict(gt_label=2)], torch.device('cpu')).tolist() == [3, 2]


@pytest.mark.parametrize('data_samples', [[dict(img_path='a.png'), dict(img_path='b.png')],
                                          {'img_path': ['a.png', 'b.png']}])
def test_a_sample_without_a_label_is_named_when_training(data_samples):
    with pytest.raises(ValueError, match=r"ImageClassifier: a.png has no 'gt_label' to train on .*meta_keys"):
        gt_labels(data_samples, torch.device('cpu'), 3, 'ImageClassifier')
