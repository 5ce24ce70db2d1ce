"""A COCO file written by a third-party tool (labelme's example) loads, trains a few iterations and evaluates, via
tools/train.py and tools/test.py --show-dir. The data comes from tools/data/fetch_data.py labelme_coco (Debian
package labelme-examples); the test skips, saying why, only when that fetch is impossible here."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = """
_base_ = ['{repo}/configs/_base_/models/mask-rcnn_r50_fpn.py', '{repo}/configs/_base_/default_runtime.py']
model = dict(backbone=dict(depth=18, base_channels=8, init_cfg=None, frozen_stages=-1),
             neck=dict(out_channels=16), roi_head=dict(num_classes=20, fc_out_channels=32, mask_channels=(16,)),
             train_cfg=dict(rpn_proposal=dict(nms_pre=100, max_per_img=50), rcnn=dict(sampler=dict(num=32))),
             test_cfg=dict(rpn=dict(nms_pre=100, max_per_img=50), rcnn=dict(score_thr=0.0, max_per_img=10)))
data = dict(type='CocoDataset', data_root='{root}', ann_file='annotations.json')
train_dataloader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(data, filter_cfg=dict(filter_empty_gt=True), pipeline=[
        dict(type='LoadImageFromFile'), dict(type='LoadDetAnnotations', with_mask=True),
        dict(type='DetResize', scale=(128, 96)), dict(type='DetAlbu', transforms=[dict(type='HorizontalFlip')]),
        dict(type='PackDetInputs')]))
val_dataloader = dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(data, test_mode=True, pipeline=[dict(type='LoadImageFromFile'),
                                                 dict(type='DetResize', scale=(128, 96)), dict(type='PackDetInputs')]))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', metric=['bbox', 'segm'])
test_evaluator = val_evaluator
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2, save_best=None))
log_processor = dict(by_epoch=False)
"""


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def labelme_root() -> Path:
    fetch = _module(REPO / 'tools/data/fetch_data.py')
    root = REPO / 'data'
    try:
        (root / '.cache').mkdir(parents=True, exist_ok=True)
        fetch.fetch_labelme_coco(root, root / '.cache', 0.2, 0, False)
    except (fetch.FetchError, OSError) as err:
        pytest.skip(f'labelme example not fetchable here: {err}')
    return root / 'labelme_coco'


@pytest.mark.slow
def test_labelme_coco_trains_and_evaluates(labelme_root, tmp_path, capsys):
    from resbackbones.datasets import CocoDataset
    ds = CocoDataset(ann_file=str(labelme_root / 'annotations.json'), data_prefix=dict(img=str(labelme_root)))
    assert len(ds) == 3 and len(ds.metainfo['classes']) == 20  # '_background_' is not a class
    assert sum(len(ds.get_data_info(i)['instances']) for i in range(3)) == 12
    config = tmp_path / 'labelme.py'
    config.write_text(CONFIG.format(repo=REPO, root=labelme_root))
    assert _module(REPO / 'tools/train.py').main([str(config), '--work-dir', str(tmp_path / 'wd')]) == 0
    show = tmp_path / 'show'
    assert _module(REPO / 'tools/test.py').main([str(config), str(tmp_path / 'wd' / 'iter_2.pth'), '--work-dir',
                                                 str(tmp_path / 'wd'), '--show-dir', str(show)]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {'coco/bbox_mAP', 'coco/segm_mAP_50'} <= set(metrics)
    assert sorted(p.name for p in show.iterdir()) == ['2011_000003.png', '2011_000006.png', '2011_000025.png']
