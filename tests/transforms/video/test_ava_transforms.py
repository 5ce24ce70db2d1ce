"""SampleAVAFrames and person boxes through the clip transforms, against mmaction2's arithmetic written out here."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from resbackbones.registry import TRANSFORMS

GT = np.array([[0.1, 0.2, 0.5, 0.9], [0.0, 0.0, 1.0, 1.0]])
PROPOSALS = np.array([[0.25, 0.5, 0.75, 1.0]])


def mm_ava_inds(clip_len, interval, test_mode, fps, timestamp, timestamp_start, start_index, shot, offsets):
    """mmaction2 v1.2 SampleAVAFrames, written out: centre, range around it, offsets, clip to the shot, + start."""
    center = fps * (timestamp - timestamp_start) + start_index
    inds = list(range(center - (clip_len // 2) * interval, center + ((clip_len + 1) // 2) * interval, interval))
    if not test_mode:
        inds = inds + offsets
    return np.clip(inds, shot[0], shot[1] - 1).astype(np.int32) + start_index


@pytest.mark.parametrize('clip_len, interval', [(4, 16), (8, 8), (32, 2), (5, 3), (1, 1)])
@pytest.mark.parametrize('test_mode', [False, True])
@pytest.mark.parametrize('timestamp, start_index, total', [(902, 1, None), (1799, 1, None), (900, 0, None),
                                                           (905, 0, 50)])
def test_sample_ava_frames_matches_mmaction2(clip_len, interval, test_mode, timestamp, start_index, total):
    results = dict(fps=30, timestamp=timestamp, timestamp_start=900, start_index=start_index, shot_info=(0, 27000))
    if total is not None:
        results['total_frames'] = total
    np.random.seed(3)
    out = TRANSFORMS.build(dict(type='SampleAVAFrames', clip_len=clip_len, frame_interval=interval,
                                test_mode=test_mode))(results)
    np.random.seed(3)
    offsets = np.random.randint(-interval // 2, (interval + 1) // 2, size=clip_len)
    shot = (0, total) if total is not None else (0, 27000)
    want = mm_ava_inds(clip_len, interval, test_mode, 30, timestamp, 900, start_index, shot, offsets)
    np.testing.assert_array_equal(out['frame_inds'], want)
    assert out['frame_inds'].dtype == np.int32 and (out['clip_len'], out['num_clips']) == (clip_len, 1)
    np.testing.assert_array_equal(out['crop_quadruple'], np.array([0, 0, 1, 1], np.float32))


@pytest.fixture
def sample(tmp_path):
    """An AVA sample with 60 frames of 48 x 64 written as JPEGs, relative boxes and proposals."""
    for i in range(1, 61):
        Image.fromarray(np.full((48, 64, 3), i * 4, np.uint8)).save(tmp_path / f'img_{i:05}.jpg')
    return dict(frame_dir=str(tmp_path), filename_tmpl='img_{:05}.jpg', start_index=1, modality='RGB', fps=1,
                timestamp=920, timestamp_start=900, shot_info=(0, 60), gt_bboxes=GT.copy(), proposals=PROPOSALS.copy(),
                scores=np.array([0.97]), gt_labels=np.eye(81, dtype=np.float32)[[3, 7]], video_id='v',
                img_key='v,0920')


def decoded(sample: dict) -> dict:
    sample = TRANSFORMS.build(dict(type='SampleAVAFrames', clip_len=4, frame_interval=2, test_mode=True))(sample)
    return TRANSFORMS.build(dict(type='RawFrameDecode'))(sample)


def test_decode_turns_relative_boxes_into_float32_pixels(sample):
    out = decoded(sample)
    assert out['imgs'].shape == (4, 48, 64, 3)
    for key, rel in (('gt_bboxes', GT), ('proposals', PROPOSALS)):
        assert out[key].dtype == np.float32
        np.testing.assert_array_equal(out[key], (rel * [64, 48, 64, 48]).astype(np.float32))


@pytest.mark.parametrize('cfg, size', [(dict(type='Resize', scale=(-1, 24)), (24, 32)),
                                       (dict(type='Resize', scale=(40, 30), keep_ratio=False), (30, 40)),
                                       (dict(type='RandomRescale', scale_range=(20, 36)), None)])
def test_resizes_scale_boxes(sample, cfg, size):
    before = decoded(sample)
    gt, prop = before['gt_bboxes'].copy(), before['proposals'].copy()
    np.random.seed(5)
    out = TRANSFORMS.build(cfg)(before)
    if size is None:  # mmaction2: short edge = np.random.randint(low, high + 1), aspect kept
        np.random.seed(5)
        short = np.random.randint(20, 37)
        size = (short, int(64 * short / 48 + 0.5))
        assert out['short_edge'] == short
    assert out['imgs'].shape[1:3] == size and tuple(out['img_shape']) == size
    factor = np.array([size[1] / 64, size[0] / 48] * 2, np.float32)
    np.testing.assert_array_equal(out['gt_bboxes'], gt * factor)
    np.testing.assert_array_equal(out['proposals'], prop * factor)


def mm_box_crop(box, x1, y1, x2, y2):
    out = box.copy()
    out[:, 0::2] = np.clip(box[:, 0::2] - x1, 0, x2 - x1 - 1)
    out[:, 1::2] = np.clip(box[:, 1::2] - y1, 0, y2 - y1 - 1)
    return out


def mm_quadruple(old, x, y, w, h, img_w, img_h):
    return np.array([old[0] + x / img_w * old[2], old[1] + y / img_h * old[3], w / img_w * old[2],
                     h / img_h * old[3]], np.float32)


@pytest.mark.parametrize('seed', range(4))
def test_random_crop_then_center_crop_follow_mmaction2(sample, seed):
    out = decoded(sample)
    gt, prop = out['gt_bboxes'].copy(), out['proposals'].copy()
    np.random.seed(seed)
    out = TRANSFORMS.build(dict(type='RandomCrop', size=40))(out)
    np.random.seed(seed)
    y, x = np.random.randint(0, 48 - 40), np.random.randint(0, 64 - 40)  # mmaction2 draws y first
    np.testing.assert_array_equal(out['crop_bbox'], [x, y, x + 40, y + 40])
    np.testing.assert_array_equal(out['gt_bboxes'], mm_box_crop(gt, x, y, x + 40, y + 40))
    np.testing.assert_array_equal(out['proposals'], mm_box_crop(prop, x, y, x + 40, y + 40))
    quad = mm_quadruple(np.array([0, 0, 1, 1], np.float32), x, y, 40, 40, 64, 48)
    np.testing.assert_array_equal(out['crop_quadruple'], quad)
    gt, before = out['gt_bboxes'].copy(), out['imgs']
    out = TRANSFORMS.build(dict(type='CenterCrop', crop_size=(30, 20)))(out)
    np.testing.assert_array_equal(out['imgs'], before[:, 10:30, 5:35])
    np.testing.assert_array_equal(out['gt_bboxes'], mm_box_crop(gt, 5, 10, 35, 30))
    np.testing.assert_array_equal(out['crop_quadruple'], mm_quadruple(quad, 5, 10, 30, 20, 40, 40))
    assert out['crop_quadruple'].dtype == np.float32


@pytest.mark.parametrize('flip_ratio', [0., 1.])
def test_flip_mirrors_boxes_about_the_width(sample, flip_ratio):
    out = decoded(sample)
    gt, prop = out['gt_bboxes'].copy(), out['proposals'].copy()
    out = TRANSFORMS.build(dict(type='Flip', flip_ratio=flip_ratio))(out)
    assert out['flip'] is bool(flip_ratio)
    for key, box in (('gt_bboxes', gt), ('proposals', prop)):
        want = box.copy()
        if flip_ratio:  # mmaction2: x1' = width - x2, x2' = width - x1 (float32)
            want[:, 0], want[:, 2] = 64 - box[:, 2], 64 - box[:, 0]
        np.testing.assert_array_equal(out[key], want)
        assert out[key].dtype == np.float32


def test_vertical_flip_of_boxes_is_refused(sample):
    with pytest.raises(ValueError, match="horizontally only.*v,0920"):
        TRANSFORMS.build(dict(type='Flip', flip_ratio=1., direction='vertical'))(decoded(sample))


@pytest.mark.parametrize('bad, message', [(dict(size=32.0), 'size must be a positive int'),
                                          (dict(size=32, lazy=True), 'lazy=True is not supported'),
                                          (dict(size=100), 'larger than the frames 64x48')])
def test_random_crop_refuses_bad_arguments(sample, bad, message):
    with pytest.raises(ValueError, match=message):
        TRANSFORMS.build(dict(type='RandomCrop', **bad))(decoded(sample))


def test_pack_ava_sample_is_the_detection_contract(sample):
    steps = [dict(type='SampleAVAFrames', clip_len=4, frame_interval=2), dict(type='RawFrameDecode'),
             dict(type='RandomRescale', scale_range=(40, 50)), dict(type='RandomCrop', size=32),
             dict(type='Flip', flip_ratio=0.5), dict(type='FormatShape', input_format='NCTHW', collapse=True),
             dict(type='PackActionInputs')]
    for step in steps:
        sample = TRANSFORMS.build(step)(sample)
    inputs, ds = sample['inputs'], sample['data_samples']
    assert inputs.shape == (3, 4, 32, 32) and inputs.dtype == torch.uint8
    assert ds['gt_bboxes'].dtype == ds['gt_labels'].dtype == ds['proposals'].dtype == torch.float32
    assert ds['gt_bboxes'].shape == (2, 4) and ds['gt_labels'].shape == (2, 81) and ds['proposals'].shape == (1, 4)
    assert ds['img_shape'] == (32, 32) and isinstance(ds['flip'], bool)
    assert ds['crop_quadruple'].dtype == np.float32 and ds['crop_quadruple'].shape == (4,)
    assert (ds['video_id'], ds['timestamp'], ds['img_key']) == ('v', 920, 'v,0920')
    np.testing.assert_allclose(ds['scores'], [0.97])
    assert float(ds['gt_bboxes'].max()) <= 31 and float(ds['gt_bboxes'].min()) >= 0


def test_pack_recognition_sample_is_unchanged():
    imgs = np.zeros((1, 3, 4, 8, 8), np.uint8)
    out = TRANSFORMS.build(dict(type='PackActionInputs'))(dict(imgs=imgs, label=2, img_shape=(8, 8), flip=True))
    assert out['data_samples'] == {'gt_label': 2}
