"""inference_detector: a path, an array or a list in, pred_instances in the image's own pixels out."""
from __future__ import annotations

import re

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from resbackbones.apis import inference_detector, init_detector

MODEL = dict(type='MaskRCNN', backbone=dict(type='ResNet', depth=18, base_channels=8, norm_cfg=dict(type='FrozenBN')),
             neck=dict(type='FPN', out_channels=16), roi_head=dict(num_classes=2, fc_out_channels=32,
                                                                   mask_channels=(16,)),
             test_cfg=dict(rpn=dict(nms_pre=50, max_per_img=20), rcnn=dict(score_thr=0.0, max_per_img=5)))
PIPELINE = [dict(type='LoadImageFromFile'), dict(type='DetResize', scale=(128, 96)), dict(type='PackDetInputs')]


@pytest.fixture(scope='module')
def model():
    return init_detector(Config(dict(model=MODEL, test_dataloader=dict(dataset=dict(pipeline=PIPELINE)))))


def test_path_and_array_give_the_same_detections_in_original_pixels(model, tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / 'a.png')
    from_path = inference_detector(model, str(tmp_path / 'a.png'))
    from_array = inference_detector(model, image)
    assert from_path.metainfo['ori_shape'] == (50, 70) and from_path.metainfo['img_shape'] == (91, 128)
    assert from_path.pred_instances.masks.shape[1:] == (50, 70)
    assert len(from_path.pred_instances) == 5
    np.testing.assert_allclose(from_path.pred_instances.bboxes.numpy(), from_array.pred_instances.bboxes.numpy(),
                               atol=1e-4)


def test_a_list_gives_a_list_and_training_mode_is_restored(model):
    model.train()
    images = [np.zeros((40, 40, 3), np.uint8), np.zeros((30, 50, 3), np.uint8)]
    out = inference_detector(model, images)
    assert [o.pred_instances.masks.shape[1:] for o in out] == [(40, 40), (30, 50)]
    assert model.training


def test_a_classifier_predicts_unlabelled_images(tmp_path):
    """The classifier added 'gt_label' to every prediction and failed with KeyError on images without one: the
    inference API could not be used with classifiers."""
    import torch
    cfg = Config(dict(model=dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18, base_channels=8,
                                                                       in_channels=1, small_stem=True),
                                 num_classes=3, data_preprocessor=dict(type='ImgDataPreprocessor', mean=[78.0],
                                                                       std=[96.0])),
                      test_dataloader=dict(dataset=dict(pipeline=[
                          dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='PackInputs')]))))
    model = init_detector(cfg)
    Image.fromarray(np.full((8, 8), 90, np.uint8)).save(tmp_path / 'a.png')
    pred = inference_detector(model, str(tmp_path / 'a.png'))
    assert sorted(pred) == ['pred_label', 'pred_score'] and pred['pred_score'].shape == (3,)
    assert torch.isclose(pred['pred_score'].sum(), torch.tensor(1.0))
    assert pred['pred_label'] == pred['pred_score'].argmax()
    # mmpretrain's layout, the preprocessor at the top level: the runner puts it in the model, init_detector did not
    top = Config(dict(cfg, model={k: v for k, v in cfg.model.items() if k != 'data_preprocessor'},
                      data_preprocessor=cfg.model.data_preprocessor))
    assert init_detector(top).data_preprocessor.mean.flatten().tolist() == [78.0]


def _mark_ran(path):
    open(path, 'w').close()


class RunsCode:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return _mark_ran, (self.path,)


def test_init_detector_reads_weights_only_whatever_torchs_default(model, tmp_path, monkeypatch):
    import torch
    # torch's default turned off by its environment variable: mmengine's load_checkpoint unpickled this object
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    torch.save({'state_dict': model.state_dict(), 'meta': {'x': RunsCode(str(tmp_path / 'ran'))}}, tmp_path / 'a.pth')
    with pytest.raises(ValueError, match='refusing to load'):
        init_detector(Config(dict(model=MODEL)), str(tmp_path / 'a.pth'))
    assert not (tmp_path / 'ran').exists()


def test_no_images_give_no_detections(model):
    assert inference_detector(model, []) == []  # mmdet's answer; the collate step raised an IndexError


def test_an_image_gets_the_same_detections_alone_and_beside_a_larger_one(model):
    # one padded batch: the small image's scores and boxes changed with its neighbour
    rng = np.random.default_rng(1)
    small, large = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8), rng.integers(0, 255, (90, 120, 3), np.uint8)
    alone = inference_detector(model, small).pred_instances
    together = inference_detector(model, [small, large])[0].pred_instances
    np.testing.assert_array_equal(alone.scores.numpy(), together.scores.numpy())
    np.testing.assert_array_equal(alone.bboxes.numpy(), together.bboxes.numpy())


def test_grey_and_rgba_arrays_are_brought_to_the_models_channels(model):
    rgb = np.random.default_rng(2).integers(0, 255, (40, 48, 3), dtype=np.uint8)
    grey = rgb[..., 0]
    expected = inference_detector(model, np.repeat(grey[..., None], 3, axis=2)).pred_instances.scores.numpy()
    np.testing.assert_array_equal(inference_detector(model, grey).pred_instances.scores.numpy(), expected)
    rgba = np.concatenate([rgb, np.full_like(grey[..., None], 255)], axis=2)
    np.testing.assert_array_equal(inference_detector(model, rgba).pred_instances.scores.numpy(),
                                  inference_detector(model, rgb).pred_instances.scores.numpy())


@pytest.mark.parametrize('image, got', [(np.zeros((40, 48, 3), np.float32), 'float32 array'),
                                        (np.zeros((0, 48, 3), np.uint8), 'uint8 array of shape (0, 48, 3)'),
                                        (Image.new('RGB', (8, 8)), 'got Image')])
def test_other_images_are_named(model, image, got):
    # a float array was taken as pixels, an empty one a ZeroDivisionError, a PIL image an os.fspath TypeError
    with pytest.raises(ValueError, match=rf'inference_detector: image 0 must be a path or a non-empty uint8 array.*'
                                         rf'{re.escape(got)}'):
        inference_detector(model, image)


def test_annotation_loaders_of_an_mmdet_test_pipeline_are_left_out(model, tmp_path):
    # mmdet 3's test pipelines load annotations: KeyError 'height' on an image to predict
    Image.fromarray(np.zeros((40, 48, 3), np.uint8)).save(tmp_path / 'a.png')
    pipeline = [dict(type='LoadImageFromFile'), dict(type='DetResize', scale=(128, 96)),
                dict(type='LoadDetAnnotations', with_mask=True), dict(type='PackDetInputs')]
    assert len(inference_detector(model, str(tmp_path / 'a.png'), pipeline).pred_instances) == 5


def test_the_checkpoints_class_names_reach_the_model(model, tmp_path):
    import torch
    torch.save({'state_dict': model.state_dict(), 'meta': {'dataset_meta': {'classes': ('cell', 'debris')}}},
               tmp_path / 'a.pth')
    loaded = init_detector(Config(dict(model=MODEL)), str(tmp_path / 'a.pth'))
    assert loaded.dataset_meta == {'classes': ('cell', 'debris')}  # image_demo printed class indices


def test_a_plain_dict_config_works_as_a_config(model):
    # init_detector took it, then inference failed on "'dict' object has no attribute 'test_dataloader'"
    from_dict = init_detector(dict(model=MODEL, test_dataloader=dict(dataset=dict(pipeline=PIPELINE))))
    from_dict.load_state_dict(model.state_dict())
    image = np.random.default_rng(3).integers(0, 255, (50, 70, 3), dtype=np.uint8)
    np.testing.assert_array_equal(inference_detector(from_dict, image).pred_instances.bboxes.numpy(),
                                  inference_detector(model, image).pred_instances.bboxes.numpy())
    with pytest.raises(TypeError, match='config must be a config file path'):
        init_detector(42)


def test_a_unet_takes_arrays_as_it_takes_files(tmp_path):
    # its pipeline reads with LoadImageAndMask, which arrays did not skip: "needs 'img_path' in the sample"
    import torch
    cfg = Config(dict(model=dict(type='UNet', backbone=dict(type='ResNet', depth=18, base_channels=8, in_channels=1),
                                 num_classes=2),
                      test_dataloader=dict(dataset=dict(pipeline=[dict(type='LoadImageAndMask', channels=1),
                                                                  dict(type='PackSegInputs')]))))
    unet = init_detector(cfg)
    rgb = np.random.default_rng(0).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / 'a.png')
    from_file, from_array = inference_detector(unet, str(tmp_path / 'a.png')), inference_detector(unet, rgb)
    assert from_array['pred_sem_seg'].shape == (40, 56)
    assert torch.equal(from_file['seg_probs'], from_array['seg_probs'])  # the same grey pixels


@pytest.mark.parametrize('pipeline, error', [
    ([dict(type='LoadImageFromFile'), dict(type='DetResize', scale=(64, 64))],
     r'must end in a packing step .* its last step DetResize gave \['),
    ([], r'must end in a packing step .* its last step \(none\)'),
    ('LoadImageFromFile', 'pipeline must be a list of transforms'),
])
def test_a_pipeline_that_packs_nothing_is_named(model, pipeline, error):
    with pytest.raises((ValueError, TypeError), match=error):  # KeyError 'inputs' in the data preprocessor
        inference_detector(model, np.zeros((40, 40, 3), np.uint8), pipeline=pipeline)
