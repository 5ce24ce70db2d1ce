"""mmpretrain (mmcls) types in mmaction2 configs become this project's equivalents, or a named error."""
import numpy as np
import pytest

from resbackbones.engine.mmpretrain_types import translate_mmpretrain_types
from resbackbones.registry import TRANSFORMS


def test_omnisources_image_pipeline_is_rewritten_in_place():
    cfg = dict(loader=dict(dataset=dict(type='mmcls.ImageNet', data_root='data/imagenet/', ann_file='meta/train.txt',
                                        data_prefix='train', pipeline=[
                                            dict(type='LoadRGBFromFile'),
                                            dict(type='mmcls.RandomResizedCrop', scale=(48, 32)),
                                            dict(type='mmpretrain.RandomFlip', prob=0.25, direction='vertical'),
                                            dict(type='mmcls.PackClsInputs')])))
    done = translate_mmpretrain_types(cfg)
    dataset = cfg['loader']['dataset']
    assert dataset['type'] == 'AnnotationListDataset' and dataset['data_prefix'] == 'train'
    crop, flip, pack = dataset['pipeline'][1:]
    # mmpretrain's scale is (h, w) (it resizes to scale[::-1] with mmcv's (w, h) imresize): the crop was transposed
    assert crop == dict(type='Albu', transforms=[dict(type='RandomResizedCrop', size=(48, 32), scale=(0.08, 1.0),
                                                      ratio=(0.75, 4 / 3), interpolation=1)])
    assert flip == dict(type='Albu', transforms=[dict(type='VerticalFlip', p=0.25)]) and pack == dict(type='PackInputs')
    assert "config.loader.dataset.pipeline[1]: 'mmcls.RandomResizedCrop' -> 'Albu'" in done and len(done) == 4
    results = TRANSFORMS.build(crop)(dict(img=np.zeros((60, 70, 3), np.uint8)))
    assert results['img'].shape == (48, 32, 3)


def test_mmpretrains_resnext_is_ours_with_its_width_argument():
    backbone = dict(type='mmcls.ResNeXt', depth=101, groups=32, width_per_group=4)
    translate_mmpretrain_types([backbone])
    # mmpretrain's defaults where ours differ: mmaction2's TSN-ResNeXt config fine-tuned with every BN frozen
    assert backbone == dict(type='ResNeXt', depth=101, groups=32, base_width=4, out_indices=(3,), norm_eval=False)
    given = dict(type='mmcls.ResNet', depth=18, norm_eval=True, out_indices=(1, 3))
    translate_mmpretrain_types([given])
    assert given == dict(type='ResNet', depth=18, norm_eval=True, out_indices=(1, 3))


@pytest.mark.parametrize('step, match', [
    (dict(type='mmcls.ColorJitter', brightness=0.4), r"config\[0\]: 'mmcls.ColorJitter' is a type of mmpretrain"),
    (dict(type='mmcls.RandomResizedCrop', scale=32, backend='pillow', antialias=True), r"arguments \['antialias'\]"),
    (dict(type='mmcls.RandomResizedCrop', scale=32, interpolation='hamming'), 'interpolation must be one of'),
    # taken and ignored: albumentations' crop tries 10 times and resizes with cv2
    (dict(type='mmcls.RandomResizedCrop', scale=32, max_attempts=100), 'max_attempts=100 is not supported here'),
    (dict(type='mmcls.RandomResizedCrop', scale=32, backend='pillow'), "backend='pillow' is not supported here"),
    (dict(type='mmcls.RandomFlip', prob=0.5, direction=['horizontal', 'vertical']), "direction 'horizontal' or"),
    (dict(type='mmcls.ImageNet', data_root='data/imagenet'), 'ImageNet without ann_file'),
])
def test_what_has_no_counterpart_is_named(step, match):
    with pytest.raises(ValueError, match=match):
        translate_mmpretrain_types([step])


def test_load_rgb_from_file_reads_rgb(tmp_path):
    from PIL import Image
    Image.fromarray(np.full((4, 5, 3), (10, 20, 30), np.uint8)).save(tmp_path / 'a.png')
    results = TRANSFORMS.build(dict(type='LoadRGBFromFile', to_float32=True))(dict(img_path=str(tmp_path / 'a.png')))
    assert results['img'].dtype == np.float32 and results['img'][0, 0].tolist() == [10.0, 20.0, 30.0]
    with pytest.raises(ValueError, match="io_backend must be one of \\('disk',\\)"):
        TRANSFORMS.build(dict(type='LoadRGBFromFile', io_backend='petrel'))
