"""PoseC3D's transforms against mmaction2's (mmaction2_pose.py): sampling index for index, heatmaps value for value,
keypoints through the clip transforms, the heatmap layout, and the errors that name the sample."""
import itertools
import random
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import mmaction2_pose as mma  # noqa: E402

from resbackbones.registry import TRANSFORMS  # noqa: E402
from resbackbones.transforms.video import (CenterCrop, ClipResize, DecompressPose, Flip, FormatShape,  # noqa: E402
                                           GeneratePoseTarget, MultiScaleCrop, PoseCompact, PoseDecode,
                                           RandomResizedCrop, UniformSampleFrames)

LEFT_KP, RIGHT_KP = [1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]
LIMBS = [[0, 5], [0, 6], [5, 7], [7, 9], [6, 8], [8, 10], [5, 11], [11, 13], [13, 15], [6, 12], [12, 14], [14, 16],
         [0, 1], [0, 2], [1, 3], [2, 4], [11, 12]]


def skeleton_sample(frames: int = 40, persons: int = 2, seed: int = 0, shape=(120, 160)) -> dict:
    """Two people over ``frames`` frames in a (h, w) frame; the second leaves half-way, joint 3 is never seen."""
    rng = np.random.default_rng(seed)
    margin = min(shape) // 6
    kp = rng.uniform(margin, min(shape) - margin, (persons, frames, 17, 2)).astype(np.float32)
    score = rng.uniform(0.05, 1, (persons, frames, 17)).astype(np.float32)
    kp[1:, frames // 2:], score[1:, frames // 2:] = 0, 0
    kp[:, :, 3], score[:, :, 3] = 0, 0
    return dict(keypoint=kp, keypoint_score=score, total_frames=frames, img_shape=shape, label=1, start_index=0,
                modality='Pose', frame_dir='S001C001P001R001A001')


@pytest.mark.parametrize('clip_len,num_clips,test_mode', [(8, 1, False), (48, 1, False), (8, 10, True),
                                                         (48, 10, True), (5, 3, False), (48, 1, True)])
def test_uniform_sample_frames_equals_mmaction2(clip_len, num_clips, test_mode):
    transform = UniformSampleFrames(clip_len, num_clips=num_clips, test_mode=test_mode)
    for total, start, seed in itertools.product((1, 3, 7, 8, 30, 47, 48, 95, 96, 300), (0, 1), range(3)):
        np.random.seed(seed)
        expected = mma.uniform_sample_frames(total, clip_len, num_clips, test_mode, start_index=start)
        np.random.seed(seed)
        got = transform(dict(total_frames=total, start_index=start))
        np.testing.assert_array_equal(got['frame_inds'], expected, err_msg=f'{total} frames, seed {seed}')
        assert got['clip_len'] == clip_len and got['num_clips'] == num_clips and got['frame_interval'] is None
        assert (got['frame_inds'] >= start).all() and (got['frame_inds'] < total + start).all()


def test_uniform_sample_frames_test_mode_leaves_the_global_generator_alone():
    np.random.seed(7)
    expected = np.random.rand()
    np.random.seed(7)
    UniformSampleFrames(8, num_clips=2, test_mode=True)(dict(total_frames=30))  # mmaction2 reseeds it to 255 here
    assert np.random.rand() == expected


@pytest.mark.parametrize('limb', [False, True], ids=['joints', 'limbs'])
def test_heatmaps_equal_mmaction2(limb):
    sample = skeleton_sample(frames=6, shape=(40, 56))
    sample['keypoint'][0, 2, 5] = sample['keypoint'][0, 2, 7] + 0.3  # a limb shorter than a pixel: drawn as a joint
    sample['keypoint'][0, 1, 0] = (-2.5, 1.0)  # a joint just outside the frame
    transform = GeneratePoseTarget(sigma=0.6, with_kp=not limb, with_limb=limb, skeletons=LIMBS)
    got = transform(dict(sample))['imgs']
    expected = mma.pose_heatmaps(sample['keypoint'], sample['keypoint_score'], (40, 56), 0.6, not limb, LIMBS)
    assert got.shape == expected.shape == (6, 17, 40, 56) and got.dtype == np.float32
    # joints exactly; limbs within float32 rounding (mmaction2 squares numpy scalars there, we square arrays)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 if limb else 0)
    assert expected.max() > 0.5


def test_heatmap_double_appends_the_mirrored_view_with_left_and_right_swapped():
    sample = skeleton_sample(frames=4, persons=1, shape=(32, 32))
    maps = GeneratePoseTarget(double=True, left_kp=LEFT_KP, right_kp=RIGHT_KP)(dict(sample))['imgs']
    plain, mirrored = maps[:4], maps[4:]
    np.testing.assert_array_equal(mirrored[:, 1], plain[:, 2, :, ::-1])  # left eye's map = right eye's, mirrored
    np.testing.assert_array_equal(mirrored[:, 0], plain[:, 0, :, ::-1])  # the nose only mirrors


def test_heatmap_double_with_joints_and_limbs_swaps_the_limb_channels_too():
    # mmaction2 swaps only the joint channels: a left arm's limb map stayed in its channel, on the right side
    sample = skeleton_sample(frames=1, persons=1, shape=(32, 32))
    sample['keypoint'][0, 0, 5], sample['keypoint'][0, 0, 7] = (4, 10), (4, 20)  # left shoulder, left elbow
    left_limb, right_limb = [2, 3], [4, 5]  # limbs 5-7, 7-9 and their right twins 6-8, 8-10 (LIMBS' order)
    maps = GeneratePoseTarget(double=True, with_limb=True, skeletons=LIMBS, left_kp=LEFT_KP, right_kp=RIGHT_KP,
                              left_limb=left_limb, right_limb=right_limb)(dict(sample))['imgs']
    plain, mirrored = maps[0], maps[1]
    assert plain.shape == (17 + len(LIMBS), 32, 32)
    np.testing.assert_array_equal(mirrored[17 + 4], plain[17 + 2, :, ::-1])  # right upper arm = left's, mirrored
    np.testing.assert_array_equal(mirrored[17 + 2], plain[17 + 4, :, ::-1])
    np.testing.assert_array_equal(mirrored[6], plain[5, :, ::-1])  # joints as before


def test_a_sequence_of_no_frames_gives_no_heatmaps():
    """As mmaction2: (0, C, H, W); stacking no frames raised numpy's 'need at least one array to stack'."""
    out = GeneratePoseTarget(with_kp=True, with_limb=True)(dict(keypoint=np.zeros((1, 0, 17, 2), np.float32),
                                                                img_shape=(8, 8)))
    assert out['imgs'].shape == (0, 17 + len(GeneratePoseTarget().skeletons), 8, 8)


def test_a_sample_of_no_persons_gives_zero_heatmaps():
    # numpy's "zero-size array to reduction operation maximum" (mmaction2 gives zeros)
    sample = dict(keypoint=np.zeros((0, 3, 17, 2), np.float32), img_shape=(8, 8))
    maps = GeneratePoseTarget(with_limb=True, skeletons=LIMBS)(sample)['imgs']
    assert maps.shape == (3, 17 + len(LIMBS), 8, 8) and not maps.any()


def test_heatmap_scores_scale_the_peaks_and_use_score_false_ignores_them():
    sample = skeleton_sample(frames=1, persons=1, shape=(40, 40))
    sample['keypoint'][0, 0] = 20.0
    sample['keypoint_score'][0, 0] = 0.5
    assert GeneratePoseTarget()(dict(sample))['imgs'].max() == pytest.approx(0.5)
    assert GeneratePoseTarget(use_score=False)(dict(sample))['imgs'].max() == pytest.approx(1.0)


def test_pose_compact_equals_mmaction2_and_keeps_missing_joints_at_zero():
    for seed, ratio, pad in itertools.product(range(3), (None, (1., 1.), (0.5, 2.)), (True, False)):
        sample = skeleton_sample(seed=seed)
        box = mma.pose_compact_box(sample['keypoint'].copy(), sample['img_shape'], hw_ratio=ratio, allow_imgpad=pad)
        out = PoseCompact(hw_ratio=ratio, allow_imgpad=pad)(dict(sample, keypoint=sample['keypoint'].copy()))
        assert out['img_shape'] == (box[3] - box[1], box[2] - box[0])
        seen = sample['keypoint'] != 0
        np.testing.assert_array_equal(out['keypoint'][seen], (sample['keypoint'] - np.array(box[:2]))[seen])
        assert (out['keypoint'][~seen] == 0).all()
        if ratio == (1., 1.) and pad:
            assert out['img_shape'][0] == pytest.approx(out['img_shape'][1], abs=1)


def test_pose_compact_leaves_a_tiny_skeleton_alone():
    sample = skeleton_sample()
    sample['keypoint'] = np.full_like(sample['keypoint'], 50.0)
    sample['keypoint'][..., 0] += np.linspace(0, 5, 17)  # 5 px wide: under the 10 px threshold
    out = PoseCompact()(dict(sample))
    assert out['img_shape'] == (120, 160) and 'crop_quadruple' not in out


def test_keypoints_follow_resize_crop_and_flip():
    sample = skeleton_sample(shape=(100, 200))
    kp = sample['keypoint'].copy()
    out = ClipResize(scale=(-1, 50))(dict(sample))  # short side 100 -> 50: half size
    assert out['img_shape'] == (50, 100)
    np.testing.assert_allclose(out['keypoint'], kp * 0.5)
    out = CenterCrop(crop_size=40)(out)
    assert out['img_shape'] == (40, 40)
    np.testing.assert_allclose(out['keypoint'], kp * 0.5 - [30, 5])
    np.random.seed(0)
    box_sample = RandomResizedCrop(area_range=(0.3, 0.6))(dict(sample, keypoint=kp.copy()))
    x1, y1, x2, y2 = box_sample['crop_bbox']
    assert box_sample['img_shape'] == (y2 - y1, x2 - x1)
    np.testing.assert_allclose(box_sample['keypoint'], kp - [x1, y1])
    random.seed(0)  # MultiScaleCrop worked on frames only ('put PyAVDecode first' for a skeleton)
    multi = MultiScaleCrop(64, scales=(1, 0.8, 0.66))(dict(sample, keypoint=kp.copy()))
    x1, y1, x2, y2 = multi['crop_bbox']
    assert multi['img_shape'] == (y2 - y1, x2 - x1) and y2 - y1 <= 100
    np.testing.assert_allclose(multi['keypoint'], kp - [x1, y1])
    flipped = Flip(flip_ratio=1, left_kp=LEFT_KP, right_kp=RIGHT_KP)(dict(sample, keypoint=kp.copy()))
    seen = kp[:, :, 2, 0] != 0
    np.testing.assert_allclose(flipped['keypoint'][:, :, 1, 0][seen], 200 - kp[:, :, 2, 0][seen])  # right eye -> left
    np.testing.assert_array_equal(flipped['keypoint_score'][:, :, 1], sample['keypoint_score'][:, :, 2])
    assert (flipped['keypoint'][:, :, 4] == 0).all()  # the missing left ear (3) is the right ear now, still at 0


def test_format_shape_lays_heatmaps_out_per_view():
    maps = np.arange(2 * 3 * 4 * 5 * 2 * 2, dtype=np.float32).reshape(2 * 3 * 4, 5, 2, 2)  # 2 views x 3 clips x T=4
    out = FormatShape('NCTHW_Heatmap')(dict(imgs=maps, clip_len=4, num_clips=3))['imgs']
    assert out.shape == (6, 5, 4, 2, 2)
    np.testing.assert_array_equal(out[4, :, 2], maps[4 * 4 + 2])  # view 4, frame 2 = the 18th heatmap frame


def test_decompress_pose_gathers_boxes_into_persons_per_frame():
    boxes = np.zeros((5, 17, 3), np.float32)
    boxes[:, :, :2] = np.arange(5)[:, None, None] + 1
    boxes[:, :, 2] = [[0.9], [0.2], [0.8], [0.7], [0.6]]
    out = DecompressPose(squeeze=True, max_person=1)(dict(
        total_frames=10, frame_inds=np.array([2, 2, 5, 5, 5]), keypoint=boxes, frame_dir='k'))
    assert out['total_frames'] == 2 and out['keypoint'].shape == (1, 2, 17, 2)
    assert out['keypoint'][0, 0, 0, 0] == 1 and out['keypoint'][0, 1, 0, 0] == 3  # the best-scored box per frame
    kept = DecompressPose(squeeze=False)(dict(total_frames=10, frame_inds=np.array([2, 2, 5, 5, 5]),
                                              keypoint=boxes, anno_inds=np.array([True, False, True, True, True])))
    assert kept['keypoint'].shape == (3, 10, 17, 2) and (kept['keypoint'][:, 2, 0, 0] == [1, 0, 0]).all()


def test_the_posec3d_pipeline_from_configs_builds_and_runs():
    steps = [dict(type='UniformSampleFrames', clip_len=12), dict(type='PoseDecode'),
             dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True), dict(type='Resize', scale=(-1, 64)),
             dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
             dict(type='Resize', scale=(56, 56), keep_ratio=False),
             dict(type='Flip', flip_ratio=0.5, left_kp=LEFT_KP, right_kp=RIGHT_KP),
             dict(type='GeneratePoseTarget', sigma=0.6, use_score=True, with_kp=True, with_limb=False),
             dict(type='FormatShape', input_format='NCTHW_Heatmap'), dict(type='PackActionInputs')]
    random.seed(0)
    np.random.seed(0)
    packed = skeleton_sample()
    for step in steps:
        packed = TRANSFORMS.build(step)(packed)
    assert tuple(packed['inputs'].shape) == (1, 17, 12, 56, 56) and packed['data_samples']['gt_label'] == 1
    assert float(packed['inputs'].max()) > 0.5


@pytest.mark.parametrize('transform,results,match', [
    (PoseDecode(), dict(keypoint=np.zeros((1, 5, 17, 2)), frame_inds=np.array([4, 5]), frame_dir='a'),
     'frame index 5 is outside the 5 frames of a'),
    (PoseDecode(), dict(keypoint=np.zeros((5, 17, 2)), frame_dir='b'), r'keypoint.*\(persons, frames, joints, 2\).*b'),
    (PoseDecode(), dict(keypoint=np.zeros((1, 5, 17, 2)), keypoint_score=np.zeros((1, 5, 16)), frame_dir='c'),
     'keypoint_score of c'),
    (GeneratePoseTarget(), dict(keypoint=np.zeros((1, 2, 17, 2)), frame_dir='d'), r"img_shape.*\(height, width\).*d"),
    (GeneratePoseTarget(with_kp=False, with_limb=True), dict(keypoint=np.zeros((1, 2, 5, 2)), img_shape=(8, 8)),
     'skeletons name joint 16 but the keypoints of the sample have 5 joints'),
    (Flip(direction='vertical'), dict(keypoint=np.zeros((1, 2, 17, 2)), img_shape=(8, 8)), 'horizontally only'),
    # COCO pairs on a 15-joint skeleton: an IndexError, only on the samples that were flipped
    (Flip(flip_ratio=1.0, left_kp=LEFT_KP, right_kp=RIGHT_KP), dict(keypoint=np.zeros((1, 2, 15, 2)),
                                                                     img_shape=(8, 8), frame_dir='f'),
     r'left_kp / right_kp name joint 16 but the keypoints of f have 15 joints'),
    (FormatShape('NCTHW_Heatmap'), dict(imgs=np.zeros((7, 17, 8, 8)), clip_len=4, num_clips=1), 'do not split'),
    (DecompressPose(), dict(keypoint=np.zeros((2, 17, 3)), total_frames=3, frame_dir='e'), r"e lacks \['frame_inds'\]"),
    (DecompressPose(squeeze=False), dict(keypoint=np.zeros((2, 17, 3)), frame_inds=np.array([3, 10]),
                                         total_frames=10, frame_dir='i'), 'i has a box at frame 10'),  # IndexError
    (PoseDecode(), dict(keypoint=np.zeros((1, 5, 17, 2)), frame_inds=np.array([4, 5]), start_index=1,
                        frame_dir='j'), "keypoint frames count from 0: leave the dataset's start_index at 0"),
    # Kinetics-skeleton's compressed rows without DecompressPose were blamed on NTU's 3D skeletons
    (PoseDecode(), dict(keypoint=np.zeros((20, 17, 3)), frame_dir='g'), 'g .*put DecompressPose first'),
    # joints outside img_shape (another resolution): a negative img_shape failed later in Resize, blaming the data
    (PoseCompact(allow_imgpad=False), dict(keypoint=np.linspace(120., 150., 68).reshape(1, 2, 17, 2),
                                           img_shape=(40, 60), frame_dir='h'),
     r'PoseCompact: h: the keypoints lie outside the 60x40 \(w x h\) frame of img_shape'),
])
def test_bad_pose_input_names_the_sample(transform, results, match):
    with pytest.raises(ValueError, match=match):
        transform(results)


@pytest.mark.parametrize('kwargs,match', [(dict(with_kp=False), 'set with_kp, with_limb or both'),
                                          (dict(sigma=0), 'sigma must be'),
                                          (dict(left_kp=(1, 3), right_kp=(2,)), 'left_kp and right_kp must pair')])
def test_bad_heatmap_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GeneratePoseTarget(**kwargs)
