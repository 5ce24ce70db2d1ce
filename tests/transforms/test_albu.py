"""Albu: albumentations transforms by name; unknown names and arguments are errors, not warnings; the
augmentations follow torch's seed."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from resbackbones.registry import TRANSFORMS
from resbackbones.transforms import Albu


def ramp(channels: int) -> np.ndarray:
    return np.arange(4 * 6 * channels, dtype=np.uint8).reshape(4, 6, channels)


@pytest.mark.parametrize('channels', [1, 3])
def test_flip_is_applied(channels):
    img = ramp(channels)
    out = TRANSFORMS.build(dict(type='Albu', transforms=[dict(type='HorizontalFlip', p=1.0)]))(dict(img=img.copy()))
    assert np.array_equal(out['img'], img[:, ::-1])


@pytest.mark.parametrize('channels', [1, 3])
def test_crop_updates_shape_and_nested_compose(channels):
    albu = Albu([dict(type='OneOf', p=1.0, transforms=[dict(type='CenterCrop', height=2, width=3)]),
                 dict(type='VerticalFlip', p=1.0)])
    out = albu(dict(img=ramp(channels)))
    assert out['img'].shape == (2, 3, channels) and out['img_shape'] == (2, 3)
    assert np.array_equal(out['img'], ramp(channels)[1:3, 1:4][::-1])


@pytest.mark.parametrize('transforms, message', [
    ([dict(type='HorizontalFlp')], r"unknown albumentations transform 'HorizontalFlp'; did you mean \['HorizontalFlip'"),
    ([dict(type='HorizontalFlip', prob=0.5)], r"HorizontalFlip has no argument\(s\) \['prob'\]; it takes \['p'\]"),
    ([dict(type='OneOf', transforms=[dict(type='Nope')])], "unknown albumentations transform 'Nope'"),
    ([dict(type='RandomResizedCrop', size='big')], 'cannot build RandomResizedCrop'),
    ([dict(type='to_tensor')], "unknown albumentations transform 'to_tensor'"),
    ([dict(p=0.5)], "must be a dict with a 'type'"),
    (dict(type='HorizontalFlip'), 'non-empty list of dicts'),
    ([], 'non-empty list of dicts'),
])
def test_bad_configs(transforms, message):
    with pytest.raises(ValueError, match=message):
        Albu(transforms)


def test_needs_an_image():
    with pytest.raises(ValueError, match=r"Albu needs results\['img'\]"):
        Albu([dict(type='HorizontalFlip')])(dict(img_path='x.png'))


ROTATE = [dict(type='Affine', rotate=(-40, 40), p=1.0)]
SAMPLE = {  # each bridge with a sample of the targets it moves
    'Albu': lambda: dict(img=np.arange(64, dtype=np.uint8).reshape(8, 8, 1) * 3),
    'SegAlbu': lambda: dict(img=np.arange(64, dtype=np.uint8).reshape(8, 8, 1) * 3,
                            gt_seg_map=(np.arange(64) % 3).reshape(8, 8)),
    'DetAlbu': lambda: dict(img=np.arange(64, dtype=np.uint8).reshape(8, 8, 1) * 3,
                            gt_bboxes=np.array([[1, 1, 6, 6]], np.float32), gt_labels=np.array([0])),
}


def _draws(name: str, calls: int = 4) -> list[np.ndarray]:
    bridge = TRANSFORMS.build(dict(type=name, transforms=ROTATE))
    return [bridge(SAMPLE[name]())['img'] for _ in range(calls)]


class _Augmented(torch.utils.data.Dataset):
    def __init__(self, name: str):
        self.bridge, self.name = TRANSFORMS.build(dict(type=name, transforms=ROTATE)), name

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return self.bridge(SAMPLE[self.name]())['img']


@pytest.mark.parametrize('name', sorted(SAMPLE))
def test_augmentations_follow_torchs_seed(name):
    """albumentations seeds itself from the OS; the bridges seed it from torch, so a run's seed fixes them."""
    torch.manual_seed(5)
    first = _draws(name)
    torch.manual_seed(5)
    assert all(np.array_equal(a, b) for a, b in zip(first, _draws(name)))
    assert len({a.tobytes() for a in first}) == len(first)  # still random from call to call
    torch.manual_seed(6)
    assert not np.array_equal(_draws(name)[0], first[0])


def test_each_loader_worker_draws_its_own_and_runs_repeat():
    dataset = _Augmented('Albu')
    dataset[0]  # seeded in this process before the workers fork: each must still seed its own

    def load():
        loader = torch.utils.data.DataLoader(dataset, batch_size=1, num_workers=2)
        return [batch[0].numpy() for batch in loader]  # worker 0 gives items 0, 2; worker 1 gives 1, 3

    torch.manual_seed(0)
    first = load()
    assert not np.array_equal(first[0], first[1])
    torch.manual_seed(0)
    assert all(np.array_equal(a, b) for a, b in zip(first, load()))


def test_pixel_moving_steps_refuse_annotations_value_steps_keep_them():
    boxes = dict(img=np.zeros((8, 6, 3), np.uint8), img_path='x.png', gt_bboxes=np.zeros((1, 4), np.float32))
    jitter = Albu([dict(type='RandomBrightnessContrast', p=1.0)])
    assert jitter(dict(boxes))['gt_bboxes'].shape == (1, 4)  # values only: the boxes still fit
    flip = Albu([dict(type='OneOf', transforms=[dict(type='HorizontalFlip'), dict(type='ColorJitter')])])
    with pytest.raises(ValueError, match=r"Albu moves the image alone \(HorizontalFlip\), but x\.png carries "
                                         r"\['gt_bboxes'\].*DetAlbu"):
        flip(dict(boxes))
