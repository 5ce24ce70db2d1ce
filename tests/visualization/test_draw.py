"""Drawing: masks tint their pixels, boxes are outlined, pictures are written whole; the hook writes one per image."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement, InstanceData
from PIL import Image

from resbackbones.visualization import DetVisualizationHook, draw_det_sample, draw_instances, palette


class Runner:  # what the hook reads of mmengine's runner
    class test_dataloader:
        class dataset:
            metainfo = dict(classes=('a', 'b'))


def prediction(score: float = 0.9) -> BaseDataElement:
    mask = torch.zeros(1, 40, 60, dtype=torch.bool)
    mask[0, 10:20, 10:30] = True
    s = BaseDataElement(metainfo=dict(img_shape=(40, 60), ori_shape=(40, 60), img_path='dir/img7.png'))
    s.pred_instances = InstanceData(bboxes=torch.tensor([[10., 10., 30., 20.]]), scores=torch.tensor([score]),
                                    labels=torch.tensor([1]), masks=mask)
    return s


def test_mask_pixels_are_tinted_and_the_rest_untouched():
    image = np.full((40, 60), 50, np.uint8)
    masks = np.zeros((1, 40, 60), bool)
    masks[0, 12:18, 12:28] = True
    out = draw_instances(image, np.array([[10, 10, 30, 20]]), [1], [0.9], masks, classes=['a', 'b'])
    assert out.shape == (40, 60, 3) and out.dtype == np.uint8
    assert not np.array_equal(out[15, 20], [50, 50, 50])  # inside the mask: blended with the colour
    np.testing.assert_array_equal(out[35, 55], [50, 50, 50])  # far away: unchanged
    assert tuple(out[10, 20]) == palette(1)[0]  # the box outline has the instance colour


@pytest.mark.parametrize('score, drawn', [(0.9, True), (0.1, False)])
def test_draw_det_sample_respects_the_score_threshold(tmp_path, score, drawn):
    Image.fromarray(np.full((40, 60, 3), 50, np.uint8)).save(tmp_path / 'in.png')
    path = draw_det_sample(tmp_path / 'in.png', prediction(score), tmp_path / 'out' / 'pic.png', score_thr=0.5)
    out = np.asarray(Image.open(path))
    assert (not np.array_equal(out[15, 20], [50, 50, 50])) == drawn
    assert [p.name for p in (tmp_path / 'out').iterdir()] == ['pic.png']  # no temporary left behind


def test_hook_writes_one_picture_per_test_image(tmp_path):
    hook = DetVisualizationHook(str(tmp_path), score_thr=0.5)
    batch = dict(inputs=[torch.full((3, 40, 60), 50, dtype=torch.uint8)])
    hook.after_test_iter(Runner, 0, batch, [prediction()])
    out = np.asarray(Image.open(tmp_path / 'img7.png'))
    assert out.shape == (40, 60, 3) and not np.array_equal(out[15, 20], [50, 50, 50])


def test_probability_masks_are_cut_at_one_half():
    """mask_thr_binary=None keeps probabilities: the hook's uint8 cast drew no mask at all, draw_instances tinted
    every pixel above 0."""
    image = np.full((40, 60), 50, np.uint8)
    probs = np.full((1, 40, 60), 0.02, np.float32)
    probs[0, 12:18, 12:28] = 0.9
    out = draw_instances(image, np.zeros((1, 4)), [0], None, probs)
    tinted = np.any(out != 50, axis=2)
    assert tinted[12:18, 12:28].all() and not tinted[20:, 30:].any()  # the mask only (the label sits at 0, 0)
    hook_sample = prediction()
    hook_sample.pred_instances.masks = torch.from_numpy(probs)
    hook_sample.pred_instances.bboxes = torch.zeros(1, 4)
    drawn = DetVisualizationHook('unused', score_thr=0.5).draw(np.full((40, 60, 3), 50, np.uint8), hook_sample, None)
    assert np.any(drawn != 50, axis=2)[12:18, 12:28].all()


def test_pictures_of_images_of_one_name_do_not_replace_each_other(tmp_path):
    hook = DetVisualizationHook(str(tmp_path), score_thr=0.5)
    hook.before_test_epoch(Runner)
    samples = [prediction(), prediction()]
    for i, (folder, sample) in enumerate(zip(('sub1', 'sub2'), samples)):
        sample.set_metainfo(dict(img_path=f'{folder}/x.png', img_id=i + 1))
    hook.after_test_iter(Runner, 0, dict(inputs=[torch.full((3, 40, 60), 50, dtype=torch.uint8)] * 2), samples)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['x.png', 'x_2.png']


def test_a_renamed_picture_does_not_replace_an_image_of_that_name(tmp_path):
    # y/cat.jpg (id 7) became cat_7.png, the picture of x/cat_7.jpg written before it
    hook = DetVisualizationHook(str(tmp_path), score_thr=0.5)
    hook.before_test_epoch(Runner)
    samples = [prediction() for _ in range(3)]
    for sample, (path, img_id) in zip(samples, [('x/cat_7.jpg', 1), ('x/cat.jpg', 2), ('y/cat.jpg', 7)]):
        sample.set_metainfo(dict(img_path=path, img_id=img_id))
    hook.after_test_iter(Runner, 0, dict(inputs=[torch.full((3, 40, 60), 50, dtype=torch.uint8)] * 3), samples)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cat.png', 'cat_7.png', 'cat_7_2.png']


@pytest.mark.parametrize('name, magic', [('pic.jpg', b'\xff\xd8'), ('pic.png', b'\x89PNG')])
def test_pictures_are_written_in_their_extensions_format(tmp_path, name, magic):
    Image.fromarray(np.full((40, 60, 3), 50, np.uint8)).save(tmp_path / 'in.png')
    path = draw_det_sample(tmp_path / 'in.png', prediction(), tmp_path / name)
    assert open(path, 'rb').read(2) == magic[:2]
    with pytest.raises(ValueError, match='pic.xyz: give a picture file name ending in .png or .jpg'):
        draw_det_sample(tmp_path / 'in.png', prediction(), tmp_path / 'pic.xyz')


@pytest.mark.parametrize('padded', [False, True])
def test_predictions_are_drawn_where_the_resize_put_them(padded):
    """A 37x53 image resized by about 1.89 and padded to 96x128 (mmcv's Pad sets img_shape to the padded size):
    the ratio of img_shape to ori_shape put boxes 28% too far right and down and stretched masks into the pad."""
    meta = dict(ori_shape=(37, 53), img_shape=(96, 128) if padded else (70, 100), scale_factor=(100 / 53, 70 / 37))
    if padded:
        meta['pad_shape'] = (96, 128, 3)
    mask = torch.zeros(1, 37, 53, dtype=torch.bool)
    mask[0, 10:20, 10:20] = True
    sample = BaseDataElement(metainfo=meta)
    sample.pred_instances = InstanceData(bboxes=torch.tensor([[10., 10., 20., 20.]]), scores=torch.tensor([0.9]),
                                         labels=torch.tensor([0]), masks=mask)
    drawn = DetVisualizationHook('unused', score_thr=0.5).draw(np.zeros((96, 128, 3), np.uint8), sample, None)
    assert drawn.shape[:2] == (70, 100)  # the image without its padding
    cols = np.nonzero(drawn[28].any(axis=1))[0]  # a row through the box's middle, below its label
    assert abs(cols.min() - 10 * 100 / 53) <= 1.5 and abs(cols.max() - 20 * 100 / 53) <= 1.5
    rows = np.nonzero(drawn[:, 28].any(axis=1))[0]
    assert abs(rows.max() - 20 * 70 / 37) <= 1.5
