"""calibration_dataset: which dataset and pipeline int8 calibration reads the training images with."""
import copy

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
