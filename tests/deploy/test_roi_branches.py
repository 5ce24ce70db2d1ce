"""A detector deployed whole: backbone + FPN and its box and mask branches in the backend, RoIAlign/NMS in torch."""
import os

import pytest
import torch

from resbackbones.deploy import DetectorBackend, attach, build_detector_backend, deploy_target
from resbackbones.deploy.pipeline import agreement
from resbackbones.deploy.roi_branches import DeployedBranch, branch_targets, roi_features
from resbackbones.registry import MODELS

MASK_RCNN = dict(type='MaskRCNN', backbone=dict(type='ResNet', depth=18, base_channels=8, in_channels=1),
                 neck=dict(type='FPN', out_channels=16),
                 roi_head=dict(num_classes=2, fc_out_channels=32, mask_channels=(8, 8)),
                 data_preprocessor=dict(type='ImgDataPreprocessor', mean=[0.0], std=[1.0]))


def detector(randomise, **test_cfg):
    model = MODELS.build(dict(MASK_RCNN, test_cfg=dict(rcnn=test_cfg)) if test_cfg else MASK_RCNN)
    return randomise(model)


def image(seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 1, 64, 96, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('backend', ['torch', 'onnxruntime', 'openvino'])
def test_whole_detector_fp32_gives_the_eager_detections(backend, randomise):
    model = detector(randomise, score_thr=0.0)
    x, other = image(0), image(1)  # deployed from one image, run on another (other RoI counts)
    expected = model(other, mode='predict')[0].pred_instances
    deployed = build_detector_backend(backend, model, deploy_target(model, x))
    assert set(deployed.branches) == {'box', 'mask'}
    calls = []  # the branches are wrapped to count their calls: proof that they run in the backend
    deployed.branches = {name: (lambda t, name=name, run=run: calls.append(name) or run(t))
                         for name, run in deployed.branches.items()}
    got = attach(model, deployed)(other, mode='predict')[0].pred_instances
    assert sorted(set(calls)) == ['box', 'mask']
    assert isinstance(model.roi_heads.mask_predictor, DeployedBranch)
    assert len(expected.bboxes) > 0 and len(got.bboxes) == len(expected.bboxes)
    assert torch.allclose(got.bboxes, expected.bboxes, atol=1e-3)
    assert torch.allclose(got.scores, expected.scores, atol=1e-4)
    assert (got.masks == expected.masks).float().mean() > 0.999  # a pixel at the threshold may flip


def test_int8_branches_calibrate_on_roi_features_of_real_images(randomise):
    model = detector(randomise, score_thr=0.0)
    calibration = [image(seed) for seed in range(2, 5)]
    features = roi_features(model, calibration)
    assert features['box'].shape[1:] == (16, 7, 7) and features['mask'].shape[1:] == (16, 14, 14)
    deployed = build_detector_backend('openvino', model, deploy_target(model, image()), 'int8',
                                      calibration=calibration)
    assert deployed.describe()['roi_branches']['mask']['calibration_rois'] == len(features['mask'])
    for name, target in branch_targets(model, features).items():
        with torch.no_grad():
            expected = target.module(features[name])
        assert agreement(expected, deployed.branches[name](features[name]))['cosine'] > 0.98, name
    with pytest.raises(ValueError, match='needs calibration inputs'):
        build_detector_backend('openvino', model, deploy_target(model, image()), 'int8')


def test_zero_rois_take_the_eager_branch(randomise):
    model = detector(randomise, score_thr=0.0)
    deployed = build_detector_backend('onnxruntime', model, deploy_target(model, image()))
    attach(model, deployed)
    empty = model.roi_heads.mask_predictor(torch.zeros(0, 16, 14, 14))
    assert empty.shape == (0, 3, 28, 28)


def test_save_writes_each_branch_in_its_folder(tmp_path, randomise):
    model = detector(randomise, score_thr=0.0)
    deployed = build_detector_backend('openvino', model, deploy_target(model, image()))
    assert isinstance(deployed, DetectorBackend) and deployed.kind == 'detector'
    files = deployed.save(str(tmp_path))
    assert {'model.xml', 'box_branch/model.xml', 'mask_branch/model.bin'} <= set(files)
    assert all(os.path.isfile(tmp_path / f) for f in files)
    assert deployed.describe()['roi_branches']['mask']['example_shape'][1:] == [16, 14, 14]


def test_no_detections_to_deploy_the_mask_branch_from_is_a_clear_error(randomise):
    model = detector(randomise, score_thr=1.1)  # nothing scores above 1: no RoI reaches the mask branch
    with pytest.raises(ValueError, match=r"no RoIs for its \['mask'\] branch.*--features-only"):
        build_detector_backend('torch', model, deploy_target(model, image()))
