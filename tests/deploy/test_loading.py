"""calibration_dataset: which dataset and pipeline int8 calibration reads the training images with."""
import copy

import pytest

from resbackbones.deploy.loading import calibration_dataset

TEST_PIPELINE = [dict(type='LoadImageFromBytes'), dict(type='Resize', size=(16, 16)), dict(type='PackInputs')]
FOLDER = dict(type='FaceFolderDataset', data_root='ids', pipeline=[dict(type='LoadImageFromFile')])


def test_a_plain_dataset_takes_the_test_pipeline_whole():
    train = dict(FOLDER, pipeline=[dict(type='LoadImageFromFile'), dict(type='Albu', transforms=[])])
    assert calibration_dataset(train, TEST_PIPELINE) == dict(FOLDER, pipeline=TEST_PIPELINE)


def test_a_wrapper_is_unwrapped_and_its_images_keep_their_loader():
    train = dict(type='RepeatDataset', times=2,
                 dataset=dict(type='HalfComposedFaceDataset', dataset=FOLDER, pipeline=[dict(type='PackInputs')]))
    before = copy.deepcopy(train)
    got = calibration_dataset(train, TEST_PIPELINE)
    assert got == dict(FOLDER, pipeline=[dict(type='LoadImageFromFile'), *TEST_PIPELINE[1:]])
    assert train == before  # the config is not changed
    got['pipeline'][0]['type'] = 'changed'
    assert train == before  # nor shared with the result


def test_a_checkpoint_without_batchnorm_step_counters_loads(tmp_path):
    # older and converted checkpoints lack num_batches_tracked; the deploy check refused them ("20 missing")
    import torch
    from mmengine.config import Config

    from resbackbones.deploy.loading import load_task_model
    from resbackbones.registry import MODELS
    cfg = Config(dict(model=dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18, base_channels=8),
                                 num_classes=3)))
    state = {k: v for k, v in MODELS.build(cfg.model).state_dict().items() if 'num_batches_tracked' not in k}
    torch.save(state, tmp_path / 'old.pth')
    model = load_task_model(cfg, str(tmp_path / 'old.pth'))
    assert torch.equal(model.backbone.conv1.weight, state['backbone.conv1.weight'])
    del state['backbone.conv1.weight']
    torch.save(state, tmp_path / 'partial.pth')
    with pytest.raises(ValueError, match=r"keys 1 missing \(e.g. \['backbone.conv1.weight'\]\)"):
        load_task_model(cfg, str(tmp_path / 'partial.pth'))
