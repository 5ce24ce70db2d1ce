"""ColorJitter: mmaction2's clip-wide colour change."""
import cv2
import numpy as np
import pytest

from resbackbones.transforms.video import ColorJitter


def _clip(frames=3, seed=0):
    return np.random.default_rng(seed).integers(30, 220, size=(frames, 6, 8, 3), dtype=np.uint8)


def test_every_frame_of_a_clip_gets_the_same_change():
    np.random.seed(0)
    frame = _clip(1)[0]
    out = ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)(dict(imgs=np.stack([frame] * 4)))['imgs']
    assert out.dtype == np.uint8 and out.shape == (4, 6, 8, 3)
    assert all((out[i] == out[0]).all() for i in range(4)) and not (out[0] == frame).all()


def test_brightness_alone_scales_the_pixels():
    np.random.seed(3)
    clip = _clip()
    jitter = ColorJitter(brightness=(1.5, 1.5), contrast=0, saturation=0, hue=0)
    out = jitter(dict(imgs=clip.copy()))['imgs']
    np.testing.assert_array_equal(out, np.clip(clip.astype(np.float32) * 1.5, 0, 255).astype(np.uint8))


@pytest.mark.parametrize('kind', ['contrast', 'saturation'])
def test_contrast_and_saturation_blend_with_grey_as_mmaction2(kind):
    clip = _clip(2)
    kwargs = dict(brightness=0, contrast=0, saturation=0, hue=0)
    out = ColorJitter(**{**kwargs, kind: (0.5, 0.5)})(dict(imgs=clip.copy()))['imgs']
    img = clip.astype(np.float32)
    grey = 0.2989 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]
    target = grey.mean(axis=(1, 2))[:, None, None, None] if kind == 'contrast' else grey[..., None]
    np.testing.assert_allclose(out, np.clip(0.5 * img + 0.5 * target, 0, 255).astype(np.uint8), atol=1)


def test_hue_moves_opencvs_hue_channel():
    clip = _clip(1)
    out = ColorJitter(brightness=0, contrast=0, saturation=0, hue=(0.2, 0.2))(dict(imgs=clip.copy()))['imgs']
    hsv = cv2.cvtColor(clip[0], cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + int(0.2 * 255)) % 180
    np.testing.assert_array_equal(out[0], cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))


@pytest.mark.parametrize('kwargs, message', [
    (dict(brightness=1.5), r'brightness must give a range within \[0, 2\]'),
    (dict(hue=0.7), r'hue must give a range within \[-0.5, 0.5\]'),
    (dict(contrast=(1.2, 0.8)), 'contrast must give a range'),
])
def test_bad_ranges_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ColorJitter(**kwargs)
