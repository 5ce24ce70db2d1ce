"""Face alignment: a face moved by a known similarity goes back onto insightface's template; the template for other
sizes follows insightface's rule; wrong landmarks are named; LoadImageFromBytes names a corrupt record."""
from __future__ import annotations

import math

import numpy as np
import pytest

from resbackbones.transforms import Albu, CorruptImageError, FaceAlign, LoadImageFromBytes, RandomFlip, Resize
from resbackbones.transforms.face_align import ARCFACE_TEMPLATE, similarity_transform, template_for


def _move(points: np.ndarray, angle: float, scale: float, shift) -> np.ndarray:
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return points @ (scale * rot).T + np.asarray(shift)


def test_recovers_a_known_similarity():
    landmarks = _move(ARCFACE_TEMPLATE, 0.3, 1.7, (20.0, -5.0))
    matrix = similarity_transform(landmarks, ARCFACE_TEMPLATE)
    back = landmarks @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(back, ARCFACE_TEMPLATE, atol=1e-9)


def test_warped_landmarks_land_on_the_template():
    """Bright dots at five landmarks of a rotated, scaled face end up at the template points of the 112 crop."""
    landmarks = _move(ARCFACE_TEMPLATE, -0.25, 1.5, (40.0, 30.0))
    img = np.zeros((260, 260, 3), np.uint8)
    for x, y in np.round(landmarks).astype(int):
        img[y - 2:y + 3, x - 2:x + 3] = 255
    out = FaceAlign(112)(dict(img=img, landmarks=landmarks))
    assert out['img'].shape == (112, 112, 3) and out['img_shape'] == (112, 112)
    for x, y in ARCFACE_TEMPLATE:
        patch = out['img'][int(round(y)) - 1:int(round(y)) + 2, int(round(x)) - 1:int(round(x)) + 2, 0]
        assert patch.max() > 200


@pytest.mark.parametrize('size, expected_first', [
    (112, (38.2946, 51.6963)), (224, (76.5892, 103.3926)),
    (128, (46.2946, 51.6963)),  # not a multiple of 112: laid out for 128 (ratio 1), shifted 8 px right
])
def test_template_for_other_sizes(size, expected_first):
    np.testing.assert_allclose(template_for(size)[0], expected_first)


@pytest.mark.parametrize('landmarks', [np.zeros((4, 2)), np.zeros((5, 3)), np.full((5, 2), np.nan),
                                       [[1, 2], [3]] * 3, 'eyes', np.full((5, 2), 30.0)])
def test_wrong_landmarks_are_named(landmarks):
    # ragged lists and strings used to surface as numpy's own error, coincident points as a warning and noise
    with pytest.raises(ValueError, match=r'FaceAlign on face.jpg: landmarks must be 5 \(x, y\) points'):
        FaceAlign()(dict(img=np.zeros((50, 50, 3), np.uint8), landmarks=landmarks, img_path='face.jpg'))


def test_missing_landmarks_are_named_unless_already_aligned():
    aligned = dict(img=np.zeros((112, 112, 3), np.uint8))
    assert FaceAlign(skip_missing=True)(aligned) is aligned
    with pytest.raises(ValueError, match="no 'landmarks'"):
        FaceAlign()(dict(img=np.zeros((112, 112, 3), np.uint8)))


def test_corrupt_bytes_name_their_record():
    with pytest.raises(CorruptImageError, match=r'cannot read image train.rec, record 3'):
        LoadImageFromBytes()(dict(img_bytes=b'not an image', img_source='train.rec, record 3'))


@pytest.mark.parametrize('step', [RandomFlip(prob=1.0), Resize(64), Albu([dict(type='HorizontalFlip', p=1.0)])])
def test_steps_before_alignment_refuse_the_landmarks_they_would_leave_behind(step):
    # the image moved, the landmarks stayed: FaceAlign warped a region with no face in it
    landmarks = ARCFACE_TEMPLATE + np.array([0.0, 20.0])
    with pytest.raises(ValueError, match="landmarks"):
        step(dict(img=np.zeros((160, 160, 3), np.uint8), landmarks=landmarks))


def test_alignment_uses_the_landmarks_up_so_the_aligned_crop_can_be_flipped():
    out = FaceAlign(112)(dict(img=np.zeros((160, 160, 3), np.uint8), landmarks=ARCFACE_TEMPLATE + 10.0))
    assert 'landmarks' not in out  # they described the uncropped image
    assert RandomFlip(prob=1.0)(out)['img'].shape == (112, 112, 3)
