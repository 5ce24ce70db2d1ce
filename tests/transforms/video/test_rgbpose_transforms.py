"""The RGB + pose (RGBPoseConv3D) data pipeline against mmaction2 (mmaction2_pose.py): per-modality sampling index
for index, decoding exactly the sampled frames and keypoints, MMCompact's box and zero padding, frames and keypoints
staying together through mmaction2's whole train pipeline, the two-input layout, and the errors that name the cause.

The synthetic NTU-like sample is a 40-frame 64x48 video with a green disc under the left shoulder (joint 5), a red
one under the right shoulder (joint 6) and a grey patch whose level encodes the frame index."""
import itertools
import pickle
import random
import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import mmaction2_pose as mma  # noqa: E402

from resbackbones.datasets import PoseDataset  # noqa: E402
from resbackbones.transforms.video import (CorruptVideoError, FormatShape, MMCompact, MMDecode,  # noqa: E402
                                           MMUniformSampleFrames, PackActionInputs)
from resbackbones.transforms.video.decoder import decode_all  # noqa: E402
from resbackbones.transforms.video.writer import write_video  # noqa: E402

W, H, FRAMES, IDENT = 64, 48, 40, 'S001C001P001R001A001'
GREEN_AT, RED_AT = (22, 20), (42, 20)  # disc centres (pixel column, row) under joints 5 and 6
LEFT_KP, RIGHT_KP = [1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]


def patch_level(i: int) -> int:
    return 20 + 4 * i


def frame(i: int) -> np.ndarray:
    img = np.zeros((H, W, 3), np.uint8)
    img[40:, :8] = patch_level(i)
    yy, xx = np.mgrid[:H, :W]
    for (cx, cy), channel in ((GREEN_AT, 1), (RED_AT, 0)):
        img[(xx - cx) ** 2 + (yy - cy) ** 2 <= 9, channel] = 255
    return img


def keypoints() -> tuple[np.ndarray, np.ndarray]:
    """(1, 40, 17, 2) joints moving about inside x 14..50, y 8..40 (pixel-corner coordinates: a pixel's centre is
    +0.5), the shoulders fixed on their discs; scores in (0.5, 1)."""
    rng = np.random.default_rng(0)
    kp = np.stack([rng.uniform(14, 50, (1, FRAMES, 17)), rng.uniform(8, 40, (1, FRAMES, 17))], -1)
    kp[0, :, 5], kp[0, :, 6] = np.add(GREEN_AT, 0.5), np.add(RED_AT, 0.5)
    return kp.astype(np.float32), rng.uniform(0.5, 1, (1, FRAMES, 17)).astype(np.float32)


@pytest.fixture(scope='module')
def ntu(tmp_path_factory):
    """A video folder and annotation pickles: 'ntu.pkl' in the video's pixels, 'ntu_x2.pkl' in pixels of a frame
    twice as large (MMDecode must rescale)."""
    root = tmp_path_factory.mktemp('rgbpose')
    (root / 'videos').mkdir()
    write_video(root / 'videos' / f'{IDENT}.mp4', (frame(i) for i in range(FRAMES)), gop=8)
    kp, score = keypoints()
    for name, scale in (('ntu.pkl', 1), ('ntu_x2.pkl', 2)):
        ann = dict(frame_dir=IDENT, label=3, img_shape=(H * scale, W * scale), original_shape=(H * scale, W * scale),
                   total_frames=FRAMES, keypoint=kp * scale, keypoint_score=score)
        with open(root / name, 'wb') as f:
            pickle.dump(dict(split=dict(xsub_train=[IDENT]), annotations=[ann]), f)
    return root


def sample(root: Path, scale=(1, 1), **changes) -> dict:
    """The annotation as PoseDataset gives it, keypoints in a frame ``scale`` (x, y) times the video's."""
    kp, score = keypoints()
    out = dict(frame_dir=str(root / 'videos' / IDENT), label=3, img_shape=(H * scale[1], W * scale[0]),
               total_frames=FRAMES, keypoint=kp * np.array(scale, np.float32), keypoint_score=score, start_index=0,
               modality='Pose')
    out.update(changes)
    return out


def run(steps: list[dict], ann_file: Path, root: Path) -> dict:
    dataset = PoseDataset(str(ann_file), split='xsub_train', data_prefix=dict(video=str(root / 'videos')),
                          pipeline=steps)
    return dataset[0]


# ------------------------------------------------------------------------------------------------------ sampling

@pytest.mark.parametrize('clip_len,num_clips,test_mode', [
    (dict(RGB=8, Pose=32), 1, False), (dict(RGB=8, Pose=32), 10, True), (dict(Pose=32, RGB=8), 2, False),
    (dict(Pose=32, RGB=8), 3, True), (dict(RGB=8), 1, False), (dict(RGB=5), 10, True)])
def test_mm_uniform_sample_frames_equals_mmaction2(clip_len, num_clips, test_mode):
    transform = MMUniformSampleFrames(clip_len, num_clips=num_clips, test_mode=test_mode)
    # under 8, 8..15, 16..31, 32..63 (between clip_len and twice it for RGB or Pose), and long
    for total, seed in itertools.product((1, 5, 8, 12, 20, 31, 40, 63, 64, 100, 300), range(3)):
        np.random.seed(seed)
        expected = mma.mm_uniform_sample_frames(total, clip_len, num_clips, test_mode)
        np.random.seed(seed)
        got = transform(dict(total_frames=total, start_index=1, modality='Pose'))
        after = np.random.rand()
        assert sorted(expected) == sorted(f'{m}_inds' for m in clip_len)
        for modality, length in clip_len.items():
            inds = got[f'{modality}_inds']
            np.testing.assert_array_equal(inds, expected[f'{modality}_inds'], err_msg=f'{modality}: {total} frames, '
                                                                                      f'seed {seed}')
            assert inds.dtype == np.int32 and len(inds) == num_clips * length
        assert got['modality'] == list(clip_len) and got['clip_len'] == clip_len
        assert got['num_clips'] == num_clips and got['frame_interval'] is None
        if test_mode:  # mmaction2 reseeds the global generator here; this leaves it where it was
            np.random.seed(seed)
            assert after == np.random.rand()


def test_mm_uniform_sample_frames_keeps_a_modality_list():
    out = MMUniformSampleFrames(dict(RGB=8, Pose=32))(dict(total_frames=40, modality=['RGB']))
    assert out['modality'] == ['RGB'] and 'Pose_inds' in out


# ------------------------------------------------------------------------------------------------------ decoding

@pytest.mark.parametrize('scale', [(1, 1), (2, 2), (1, 2)], ids=['same', 'twice', 'taller'])
@pytest.mark.parametrize('modality', [['RGB', 'Pose'], ['Pose', 'RGB'], ['RGB']])
def test_mm_decode_gives_the_sampled_frames_and_keypoints_in_the_video_pixels(ntu, scale, modality):
    rgb_inds, pose_inds = np.array([39, 0, 7, 7, 21, 13, 30, 2]), np.arange(FRAMES)[::-3]
    results = sample(ntu, scale, modality=modality, RGB_inds=rgb_inds, Pose_inds=pose_inds)
    out = MMDecode()(results)
    video = ntu / 'videos' / f'{IDENT}.mp4'
    assert out['filename'] == str(video)
    np.testing.assert_array_equal(out['imgs'], decode_all(video)[rgb_inds])
    levels = out['imgs'][:, 42:46, 2:6].mean((1, 2, 3))  # the grey patch says which frame each one is
    np.testing.assert_allclose(levels, [patch_level(i) for i in rgb_inds], atol=3)
    assert out['img_shape'] == out['original_shape'] == (H, W)
    kp, score = keypoints()
    if 'Pose' in modality:
        kp, score = kp[:, pose_inds], score[:, pose_inds]
    np.testing.assert_allclose(out['keypoint'], kp, rtol=1e-6)  # rescaled from the annotation's frame to the video's
    np.testing.assert_array_equal(out['keypoint_score'], score)


def test_mm_decode_pose_alone_keeps_the_annotation_frame_and_scores_default_to_one(ntu):
    results = sample(ntu, (2, 2), modality=['Pose'], Pose_inds=np.array([3, 1]))
    del results['keypoint_score']
    out = MMDecode()(results)
    assert 'imgs' not in out and out['img_shape'] == (2 * H, 2 * W)
    np.testing.assert_array_equal(out['keypoint'], keypoints()[0][:, [3, 1]] * 2)
    assert out['keypoint_score'].shape == (1, 2, 17) and (out['keypoint_score'] == 1).all()


# ------------------------------------------------------------------------------------------------------ compacting

def compact_case(case: str) -> tuple[np.ndarray, tuple[int, int]]:
    """Keypoints (2 persons, 3 frames) in a 48x64 frame; joint 3 missing, person 1 absent in frame 2."""
    rng = np.random.default_rng(1)
    spans = dict(inside=((20, 40), (15, 35)), edge=((2, 60), (30, 46)), tiny=((30, 35), (20, 40)))
    (x0, x1), (y0, y1) = spans[case]
    kp = np.stack([rng.uniform(x0, x1, (2, 3, 17)), rng.uniform(y0, y1, (2, 3, 17))], -1).astype(np.float32)
    kp[:, :, 3], kp[1, 2] = 0, 0
    kp[0, 0, 4, 0] = np.nan
    return kp, (H, W)


@pytest.mark.parametrize('case,hw_ratio,allow_imgpad', [
    ('inside', 1., True), ('inside', None, True), ('edge', 1., True), ('edge', 1., False), ('edge', (0.5, 2.), True),
    ('tiny', 1., True)])
def test_mm_compact_equals_mmaction2(case, hw_ratio, allow_imgpad):
    kp, shape = compact_case(case)
    imgs = np.random.default_rng(2).integers(1, 256, (3, H, W, 3), dtype=np.uint8)  # zeros only from padding
    ratio = None if hw_ratio is None else (hw_ratio, hw_ratio) if isinstance(hw_ratio, float) else hw_ratio
    want_imgs, want_kp, want_shape = mma.mm_compact(list(imgs), kp, shape, hw_ratio=ratio, allow_imgpad=allow_imgpad)
    out = MMCompact(hw_ratio=hw_ratio, allow_imgpad=allow_imgpad)(dict(imgs=imgs, keypoint=kp.copy(),
                                                                      img_shape=shape))
    assert out['img_shape'] == want_shape == out['imgs'].shape[1:3]
    np.testing.assert_array_equal(out['imgs'], want_imgs)
    np.testing.assert_array_equal(out['keypoint'], want_kp)
    assert (out['keypoint'][:, :, 3] == 0).all() and (out['keypoint'][1, 2] == 0).all()  # missing stay missing
    assert 'crop_quadruple' not in out  # mmaction2's MMCompact does not record the box
    padded = (out['imgs'] == 0).all(-1).any()
    assert padded == (case == 'edge' and allow_imgpad)  # black where the box leaves the frame, only there
    if case == 'tiny':  # under the 10-pixel threshold: the whole frame
        assert want_shape == (H, W)
        np.testing.assert_array_equal(out['imgs'], imgs)


# ------------------------------------------------------------------------------------------------------ pipelines

def train_steps(size: int = 56, flip_ratio: float = 1.) -> list[dict]:
    """mmaction2's rgbpose_conv3d.py train pipeline, smaller (256 -> 64, 224 -> ``size``)."""
    return [dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8, Pose=32), num_clips=1), dict(type='MMDecode'),
            dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
            dict(type='Resize', scale=(64, 64), keep_ratio=False),
            dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
            dict(type='Resize', scale=(size, size), keep_ratio=False),
            dict(type='Flip', flip_ratio=flip_ratio, left_kp=LEFT_KP, right_kp=RIGHT_KP),
            dict(type='GeneratePoseTarget', sigma=0.7, use_score=True, with_kp=True, with_limb=False, scaling=0.25)]


def blob_centre(channel: np.ndarray, near: np.ndarray, radius: int = 6) -> np.ndarray:
    """(x, y) centroid, in pixel-corner coordinates, of the bright pixels of ``channel`` within ``radius`` pixels of
    ``near``; NaN when there are none."""
    x0, y0 = (max(int(v) - radius, 0) for v in near)
    window = channel[y0:int(near[1]) + radius + 1, x0:int(near[0]) + radius + 1].astype(np.float64)
    weight = np.clip(window - 96, 0, None)
    if not weight.sum():
        return np.array([np.nan, np.nan])
    ys, xs = np.mgrid[:window.shape[0], :window.shape[1]]
    return np.array([(xs * weight).sum(), (ys * weight).sum()]) / weight.sum() + [x0 + 0.5, y0 + 0.5]


@pytest.mark.parametrize('ann,seed', [('ntu.pkl', 5), ('ntu.pkl', 9), ('ntu_x2.pkl', 7), ('ntu_x2.pkl', 11)])
def test_train_pipeline_keeps_the_keypoints_on_their_discs(ntu, ann, seed):
    """Flip forced, crop and resizes as mmaction2's: after them the left shoulder (joint 5's old place, now joint 6
    after the left/right swap) still sits on the green disc and the right shoulder on the red one, in every RGB frame,
    and each joint's heatmap peaks at its keypoint x scaling. The seeds draw crops that keep both discs whole."""
    random.seed(seed)
    np.random.seed(seed)
    out = run(train_steps(), ntu / ann, ntu)
    assert out['flip'] and out['imgs'].shape == (8, 56, 56, 3) and out['img_shape'] == (56, 56)
    kp = out['keypoint'][0]
    assert kp.shape == (32, 17, 2)
    for joint, channel in ((6, 1), (5, 0)):  # green (channel 1) was under joint 5, now under joint 6
        place = kp[:, joint]
        assert (place >= 6).all() and (place <= 50).all(), 'the crop cut the disc: choose another seed'
        np.testing.assert_allclose(place, np.broadcast_to(place[0], place.shape), atol=1e-4)  # the shoulders stay
        for img in out['imgs']:
            # within 0.3 px (measured: < 0.1): a half-pixel slip of any transform would show
            np.testing.assert_allclose(blob_centre(img[..., channel], place[0]), place[0], atol=0.3)
            assert np.isnan(blob_centre(img[..., 1 - channel], place[0])).all()  # and not on the other disc
    maps = out['heatmap_imgs']
    assert maps.shape == (32, 17, 14, 14) and maps.dtype == np.float32
    for t, joint in itertools.product(range(32), (5, 6, 10)):
        peak = np.unravel_index(np.argmax(maps[t, joint]), maps.shape[2:])[::-1]
        if (0 <= kp[t, joint] * 0.25).all() and (kp[t, joint] * 0.25 < 13.5).all():
            assert np.abs(np.array(peak) - kp[t, joint] * 0.25).max() <= 0.5 + 1e-5, (t, joint)


PACK = dict(type='PackActionInputs', collect_keys=('imgs', 'heatmap_imgs'))
FORMAT = dict(type='FormatShape', input_format='NCTHW')
TEST_STEPS = [dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8, Pose=32), num_clips=10, test_mode=True),
              dict(type='MMDecode'), dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
              dict(type='Resize', scale=(64, 64), keep_ratio=False),
              dict(type='GeneratePoseTarget', sigma=0.7, use_score=True, with_kp=True, with_limb=False, scaling=0.25),
              FORMAT, PACK]
RGB_ONLY = [dict(type='MMUniformSampleFrames', clip_len=dict(RGB=8), num_clips=1), dict(type='MMDecode'),
            dict(type='MMCompact', hw_ratio=1., allow_imgpad=True),
            dict(type='Resize', scale=(64, 64), keep_ratio=False),
            dict(type='RandomResizedCrop', area_range=(0.56, 1.0)),
            dict(type='Resize', scale=(56, 56), keep_ratio=False), dict(type='Flip', flip_ratio=0.5), FORMAT,
            dict(type='PackActionInputs')]


@pytest.mark.parametrize('steps,shapes', [
    (train_steps(flip_ratio=0.5) + [FORMAT, PACK], dict(imgs=(1, 3, 8, 56, 56), heatmap_imgs=(1, 17, 32, 14, 14))),
    (TEST_STEPS, dict(imgs=(10, 3, 8, 64, 64), heatmap_imgs=(10, 17, 32, 16, 16))),
    (RGB_ONLY, (1, 3, 8, 56, 56))], ids=['train', 'test', 'rgb_only'])
def test_config_pipelines_run_on_a_pose_dataset_and_pack_both_inputs(ntu, steps, shapes):
    random.seed(0)
    np.random.seed(0)
    packed = run(steps, ntu / 'ntu_x2.pkl', ntu)
    assert packed['data_samples']['gt_label'] == 3
    if isinstance(shapes, tuple):
        assert tuple(packed['inputs'].shape) == shapes and str(packed['inputs'].dtype) == 'torch.uint8'
        return
    assert set(packed['inputs']) == {'imgs', 'heatmap_imgs'}
    assert {k: tuple(v.shape) for k, v in packed['inputs'].items()} == shapes
    assert str(packed['inputs']['imgs'].dtype) == 'torch.uint8'
    assert str(packed['inputs']['heatmap_imgs'].dtype) == 'torch.float32'
    assert float(packed['inputs']['heatmap_imgs'].max()) > 0.4


def test_format_shape_lays_out_frames_and_heatmaps_by_their_own_clip_lengths():
    imgs = np.arange(2 * 8 * 2 * 3 * 3, dtype=np.uint8).reshape(16, 2, 3, 3)  # 2 clips x 8 frames
    maps = np.arange(2 * 32 * 4 * 2 * 3, dtype=np.float32).reshape(64, 4, 2, 3)  # 2 clips x 32 heatmap frames
    out = FormatShape('NCTHW')(dict(imgs=imgs, heatmap_imgs=maps, clip_len=dict(RGB=8, Pose=32), num_clips=2))
    assert out['imgs'].shape == out['input_shape'] == (2, 3, 8, 2, 3)
    assert out['heatmap_imgs'].shape == out['heatmap_input_shape'] == (2, 4, 32, 2, 3)
    np.testing.assert_array_equal(out['imgs'][1, :, 5], imgs[8 + 5].transpose(2, 0, 1))
    np.testing.assert_array_equal(out['heatmap_imgs'][1, :, 7], maps[32 + 7])
    plain = FormatShape('NCTHW')(dict(imgs=imgs, clip_len=8, num_clips=2))  # without heatmaps: as before
    np.testing.assert_array_equal(plain['imgs'], out['imgs'])
    assert 'heatmap_imgs' not in plain


# ------------------------------------------------------------------------------------------------------ errors

@pytest.mark.parametrize('make,match', [
    (lambda: MMUniformSampleFrames(dict(RGB=8, Flow=8)), r"clip_len has modality 'Flow'; expected keys among"),
    (lambda: MMUniformSampleFrames({}), 'clip_len must be a dict'),
    (lambda: MMUniformSampleFrames(8), 'clip_len must be a dict'),
    (lambda: MMUniformSampleFrames(dict(RGB=8, Pose=0)), r"clip_len\['Pose'\] must be an integer >= 1"),
    (lambda: MMDecode(io_backend='petrel'), "MMDecode reads local files only \\(io_backend='petrel'\\)"),
    (lambda: MMDecode(mode='efficient'), r"unexpected arguments \['mode'\]"),
    (lambda: MMDecode()(dict(modality=['Depth'], frame_dir='v')), "v has modality 'Depth'; expected 'RGB' or 'Pose'"),
    (lambda: MMDecode()(dict(modality=['Pose'], keypoint=np.zeros((1, 4, 17, 2)), frame_dir='v')),
     r"v has no 'Pose_inds'.*MMUniformSampleFrames"),
    (lambda: MMCompact()(dict(imgs=np.zeros((2, 8, 8, 3), np.uint8), keypoint=np.zeros((1, 2, 17, 2)),
                              img_shape=(16, 8), frame_dir='v')), r'frames of v are 8x8 .* img_shape.* is 8x16'),
    (lambda: PackActionInputs(collect_keys=('imgs', 'heatmap_imgs'))(dict(imgs=np.zeros((1, 3, 8, 4, 4)),
                                                                         frame_dir='v')),
     r"collect key 'heatmap_imgs' of v is missing; the sample has \['frame_dir', 'imgs'\]"),
    (lambda: FormatShape('NCTHW')(dict(imgs=np.zeros((8, 4, 4, 3)), heatmap_imgs=np.zeros((32, 17, 1, 1)),
                                       clip_len=8, num_clips=1)), r"clip_len\['Pose'\]=None"),
], ids=['modality', 'empty', 'int', 'zero', 'io_backend', 'argument', 'decode_modality', 'no_inds', 'compact_shape',
        'collect_key', 'heatmap_clip_len'])
def test_bad_rgbpose_input_is_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_missing_or_short_video_names_the_file(ntu, tmp_path):
    missing = sample(ntu, frame_dir=str(tmp_path / 'gone'), modality=['RGB'], RGB_inds=np.arange(8))
    with pytest.raises(FileNotFoundError, match=re.escape(f'video file not found: {tmp_path / "gone.mp4"}')):
        MMDecode()(missing)
    short = sample(ntu, modality=['RGB'], total_frames=50, RGB_inds=np.array([3, 45]))
    with pytest.raises(CorruptVideoError, match=rf'{IDENT}.mp4: MMDecode needs frame 45 but the video has 40 frames'):
        MMDecode()(short)
