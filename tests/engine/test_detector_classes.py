"""A detector whose num_classes differs from its dataset's classes is refused before training or testing."""
import sys
from pathlib import Path

import pytest

from resbackbones.engine.cli import run_tool

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the COCO fixture writer
from coco_fixtures import write_coco  # noqa: E402
from tiny import REPO, load_tool  # noqa: E402


def tiny_detector_config(tmp_path: Path, num_classes: int) -> Path:
    ann_file, img_dir = write_coco(tmp_path)  # two classes: cat, dog
    config = tmp_path / 'det.py'
    config.write_text(f'''
_base_ = [{str(REPO / 'configs/_base_/models/mask-rcnn_r50_fpn.py')!r},
          {str(REPO / 'configs/_base_/default_runtime.py')!r}]
model = dict(backbone=dict(depth=18, base_channels=8, init_cfg=None), neck=dict(out_channels=16),
             roi_head=dict(num_classes={num_classes}, fc_out_channels=32, mask_channels=(16, 16, 16, 16)))
pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadDetAnnotations', with_mask=True),
            dict(type='DetResize', scale=(64, 64), keep_ratio=True), dict(type='PackDetInputs')]
dataset = dict(type='CocoDataset', ann_file={str(ann_file)!r}, data_prefix=dict(img={str(img_dir) + '/'!r}),
               pipeline=pipeline)
train_dataloader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                        dataset=dataset)
test_dataloader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                       dataset=dict(dataset, test_mode=True))
test_evaluator = dict(type='CocoMetric', metric='bbox')
test_cfg = dict(type='TestLoop')
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.001, momentum=0.9))
''')
    return config


@pytest.mark.parametrize('num_classes', [1, 80])
@pytest.mark.parametrize('tool', ['train', 'test'])
def test_num_classes_other_than_the_datasets_is_named(tmp_path, capsys, tool, num_classes):
    """Too few failed in torchvision's loss ('Target 2 is out of bounds'); too many (the COCO configs' 80 on a
    custom set) trained without a word and failed in CocoMetric after the whole test pass."""
    config = tiny_detector_config(tmp_path, num_classes)
    args = [str(config), '--work-dir', str(tmp_path / 'work')]
    if tool == 'test':
        args.insert(1, str(tmp_path / 'missing.pth'))  # refused before the checkpoint is read
        (tmp_path / 'missing.pth').write_bytes(b'')
    status = run_tool(load_tool(tool).main, args, prog=f'{tool}.py')
    loader = 'train_dataloader' if tool == 'train' else 'test_dataloader'
    assert status == 2 and (f'{tool}.py: error: model.roi_head.num_classes={num_classes}, but {loader}.dataset has '
                            f"2 classes ['cat', 'dog']; set model.roi_head.num_classes=2") in capsys.readouterr().err


def test_a_classifier_with_more_outputs_than_training_classes_is_warned_of():
    """model.num_classes=12 on ten classes trained without a word (fewer is an error at the first label)."""
    from types import SimpleNamespace

    from resbackbones.engine.detector_classes import surplus_outputs_warning
    from resbackbones.registry import MODELS
    model = MODELS.build(dict(type='ImageClassifier', num_classes=12, backbone=dict(type='ResNet', depth=18,
                                                                                   base_channels=8)))
    ten = SimpleNamespace(metainfo=dict(classes=[str(i) for i in range(10)]))
    assert 'the model has 12 outputs (num_classes) but train_dataloader.dataset has 10 classes' in \
        surplus_outputs_warning(model, ten, 'train_dataloader')
    twelve = SimpleNamespace(metainfo=dict(classes=[str(i) for i in range(12)]))
    assert surplus_outputs_warning(model, twelve, 'train_dataloader') is None
