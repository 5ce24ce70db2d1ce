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


def _sorted_folder(root, classes=5, per=4):
    """ROOT/<class>/<k>.png, each image filled with its class id: what a batch holds is read off its pixels."""
    import numpy as np
    from PIL import Image
    for c in range(classes):
        (root / str(c)).mkdir(parents=True)
        for k in range(per):
            Image.fromarray(np.full((8, 8), c, np.uint8)).save(root / str(c) / f'{k}.png')
    return str(root)


def _folder_config(root, model_preprocessor: dict | None = dict(type='ImgDataPreprocessor', mean=[0.0], std=[1.0]),
                   **top):
    from mmengine.config import Config
    pipeline = [dict(type='LoadImageFromFile', color_type='grayscale'), dict(type='PackInputs')]
    loader = dict(batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                  dataset=dict(type='ImageFolderDataset', data_root=root, pipeline=pipeline))
    model = dict(type='ImageClassifier', backbone=dict(type='ResNet', depth=18, base_channels=8, in_channels=1,
                                                       small_stem=True), num_classes=5)
    if model_preprocessor is not None:
        model['data_preprocessor'] = model_preprocessor
    return Config(dict(model=model, train_dataloader=loader, test_dataloader=loader, **top))


def test_calibration_draws_from_every_part_of_a_class_sorted_training_set(tmp_path):
    """Read in order, the first 2 calibration batches of a class-sorted folder were classes 0 and 1 only."""
    import torch

    from resbackbones.deploy.loading import real_batches
    from resbackbones.registry import MODELS
    cfg = _folder_config(_sorted_folder(tmp_path / 'ids'))
    model = MODELS.build(cfg.model).eval()
    seen = {int(v) for batch in real_batches(cfg, model, 'train', 2) for v in torch.unique(batch)}
    assert len(seen) >= 3
    first = real_batches(cfg, model, 'train', 2)
    assert all(torch.equal(a, b) for a, b in zip(first, real_batches(cfg, model, 'train', 2)))  # seeded


def test_a_top_level_data_preprocessor_reaches_the_deployed_model(tmp_path):
    """mmpretrain's layout: the runner merges it into the model; deploy built the model without it (no
    normalisation) and failed on the unstacked list inputs with a bare AttributeError."""
    import torch

    from resbackbones.deploy.loading import load_task_model, real_batches
    from resbackbones.registry import MODELS
    cfg = _folder_config(_sorted_folder(tmp_path / 'ids'), model_preprocessor=None,
                         data_preprocessor=dict(type='ImgDataPreprocessor', mean=[78.0], std=[96.0]))
    torch.save(MODELS.build(cfg.model).state_dict(), tmp_path / 'm.pth')
    model = load_task_model(cfg, str(tmp_path / 'm.pth'))
    assert model.data_preprocessor.mean.flatten().tolist() == [78.0]
    [batch] = real_batches(cfg, model, 'test', 1)
    assert batch.shape == (4, 1, 8, 8) and float(batch.max()) < 0  # pixels 0..4 normalised by mean 78


def test_a_concatenation_of_datasets_is_read_part_by_part():
    """ConcatDataset got the test pipeline as its own argument: mmengine's TypeError 'unexpected keyword'."""
    train = dict(type='ConcatDataset', datasets=[FOLDER, dict(type='RepeatDataset', times=2, dataset=FOLDER)])
    got = calibration_dataset(train, TEST_PIPELINE)
    assert got == dict(type='ConcatDataset', datasets=[
        dict(FOLDER, pipeline=TEST_PIPELINE),
        dict(FOLDER, pipeline=[dict(type='LoadImageFromFile'), *TEST_PIPELINE[1:]])])  # unwrapped, keeps its loader
