"""CachedDataset: loads once, augments afresh on a copy, refuses a load pipeline that is not repeatable."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement, InstanceData
from PIL import Image

from resbackbones.datasets import CachedDataset
from resbackbones.datasets.cached import first_difference
from resbackbones.registry import DATASETS

LOAD = [dict(type='LoadImageAndMask'), dict(type='NormalizeIntensity', mode='percentile', low=1.0, high=99.0)]
AUGMENT = [dict(type='RandomPatch', size=8),
           dict(type='SegAlbu', transforms=[dict(type='HorizontalFlip', p=0.5), dict(type='RandomRotate90', p=1.0)]),
           dict(type='PackSegInputs')]


@pytest.fixture
def seg_root(tmp_path):
    """Three 16x20 16-bit images with random pixels and masks."""
    rng = np.random.default_rng(0)
    for kind in ('images', 'masks'):
        (tmp_path / kind).mkdir()
    for name in 'abc':
        Image.fromarray(rng.integers(0, 4000, (16, 20)).astype(np.uint16)).save(tmp_path / 'images' / f'{name}.png')
        Image.fromarray(rng.integers(0, 2, (16, 20)).astype(np.uint8)).save(tmp_path / 'masks' / f'{name}.png')
    return tmp_path


def seg_dataset(root, pipeline) -> dict:
    return dict(type='SegFolderDataset', data_root=str(root), classes=('bg', 'fg'), pipeline=pipeline)


class CountingStep:
    """A pipeline step that counts its calls and changes nothing."""

    def __init__(self):
        self.calls = 0

    def __call__(self, results: dict) -> dict:
        self.calls += 1
        return results


def seeded_samples(dataset, order, seed=0) -> list[dict]:
    random.seed(seed), np.random.seed(seed), torch.manual_seed(seed)
    return [dataset[i] for i in order]


def test_samples_equal_those_of_the_whole_pipeline_under_one_seed(seg_root):
    plain = DATASETS.build(seg_dataset(seg_root, LOAD + AUGMENT))
    cached = DATASETS.build(dict(type='CachedDataset', dataset=seg_dataset(seg_root, LOAD), pipeline=AUGMENT))
    order = [0, 1, 2, 1, 0, 2, 2, 0]
    for expected, got in zip(seeded_samples(plain, order), seeded_samples(cached, order)):
        assert torch.equal(expected['inputs'], got['inputs'])
        assert torch.equal(expected['data_samples']['gt_sem_seg'], got['data_samples']['gt_sem_seg'])
    assert sorted(cached.cache) == [0, 1, 2]
    assert len(cached) == 3 and cached.metainfo['classes'] == ('bg', 'fg')
    assert cached.get_data_info(1)['img_path'].endswith('b.png')


def test_each_sample_is_loaded_once_plus_one_repeat_check(seg_root):
    loads = CountingStep()
    cached = CachedDataset(seg_dataset(seg_root, LOAD + [loads]), pipeline=AUGMENT)
    for _ in range(4):
        for i in range(3):
            cached[i]
    assert loads.calls == 3 + 1  # sample 0 twice: the check that loading repeats


def test_in_place_changes_of_the_pipeline_do_not_reach_the_cache(seg_root):
    seen = []

    def record_then_zero(results: dict) -> dict:
        seen.append(float(results['img'].sum()))
        results['img'] *= 0
        results['gt_seg_map'][:] = 0
        return results

    cached = CachedDataset(seg_dataset(seg_root, LOAD), pipeline=[record_then_zero])
    first, second = cached[0], cached[0]
    assert seen[0] == seen[1] != 0
    assert cached.cache[0]['gt_seg_map'].any()
    assert first['img'] is not second['img']


def test_a_load_pipeline_that_does_not_repeat_is_refused_naming_the_key(seg_root):
    def add_noise(results: dict) -> dict:
        results['img'] = results['img'] + np.random.rand(*results['img'].shape).astype(np.float32)
        return results

    cached = CachedDataset(seg_dataset(seg_root, LOAD + [add_noise]), pipeline=AUGMENT)
    with pytest.raises(ValueError, match=r"two loads of sample 0 differ at \['img'\].*random transforms"):
        cached[0]


def test_packed_samples_and_nan_compare_by_value():
    # a pipeline ending in PackDetInputs was refused: data elements have no __eq__, NaN never equals itself
    def packed(score: float) -> dict:
        sample = BaseDataElement(metainfo=dict(img_path='a.png', img_shape=(4, 4)))  # what PackDetInputs gives
        sample.gt_instances = InstanceData(bboxes=torch.tensor([[0., 0., 2., 2.]]), scores=torch.tensor([score]))
        return dict(inputs=torch.zeros(3, 4, 4), data_samples=sample, ratio=float('nan'))

    assert first_difference(packed(float('nan')), packed(float('nan'))) is None
    assert first_difference(packed(0.5), packed(0.7)) == "['data_samples']['gt_instances']['scores']"


def test_samples_past_the_budget_load_at_every_access(seg_root):
    loads = CountingStep()
    one_sample = CachedDataset(seg_dataset(seg_root, LOAD), pipeline=AUGMENT)
    one_sample[0]
    cached = CachedDataset(seg_dataset(seg_root, LOAD + [loads]), pipeline=AUGMENT,
                           max_bytes=one_sample.cached_bytes)
    for _ in range(2):
        for i in range(3):
            cached[i]
    assert sorted(cached.cache) == [0] and cached.full
    assert loads.calls == 1 + 1 + 2 * 2  # sample 0 twice (the check), samples 1 and 2 at each access


@pytest.mark.parametrize('max_bytes', [-1, 1.5, True])
def test_bad_budget_is_refused(seg_root, max_bytes):
    with pytest.raises(ValueError, match='max_bytes must be an integer >= 0'):
        CachedDataset(seg_dataset(seg_root, LOAD), max_bytes=max_bytes)


def test_indices_wrap_like_a_sequence_and_stop_at_its_end(seg_root):
    cached = CachedDataset(seg_dataset(seg_root, LOAD))
    assert cached[-1]['img_path'].endswith('c.png')
    with pytest.raises(IndexError, match='index 3 is out of range for 3 samples'):
        cached[3]
