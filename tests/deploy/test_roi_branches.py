"""A detector deployed whole: backbone + FPN and its box and mask branches in the backend, RoIAlign/NMS in torch.
The OpenVINO checks run in a process of their own (openvino_roi_check.py says why)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from resbackbones.deploy import DetectorBackend, attach, build_detector_backend, deploy_target
from resbackbones.deploy.roi_branches import DeployedBranch
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


@pytest.mark.parametrize('backend', ['torch', 'onnxruntime'])
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


def test_openvino_fp32_and_int8_in_a_process_of_their_own():
    done = subprocess.run([sys.executable, str(Path(__file__).with_name('openvino_roi_check.py'))],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    fp32 = out['fp32']
    assert fp32['calls'] == ['box', 'mask'] and fp32['detections'][0] > 0
    assert fp32['detections'][0] == fp32['detections'][1]
    assert fp32['box_diff'] < 1e-3 and fp32['score_diff'] < 1e-4 and fp32['mask_agreement'] > 0.999
    # the features are compiled for the image shape; the branches, whose RoI counts vary, stay dynamic only
    assert fp32['static_shapes'] == {'features': [[1, 1, 64, 96]], 'box': [], 'mask': []}
    assert set(out['int8_cosines']) == {'box', 'mask'} and min(out['int8_cosines'].values()) > 0.98
    assert out['calibration_rois'] == out['roi_counts']  # each branch calibrated on the RoIs of the real images
    assert out['train_after_collect'] == 1  # training ran to its end (2 iterations miss the demo's targets)


def test_static_shapes_reach_the_features_only(randomise, monkeypatch):
    import resbackbones.deploy.roi_branches as roi_branches

    built, build = {}, roi_branches.build_backend  # example shape -> the options its backend was built with

    def record(name, target, precision='fp32', **options):
        built[tuple(target.example.shape[1:])] = options
        return build('torch', target, precision)

    monkeypatch.setattr(roi_branches, 'build_backend', record)
    model = detector(randomise, score_thr=0.0)
    build_detector_backend('openvino', model, deploy_target(model, image()), static_shapes=3, threads=1)
    features, *branches = built.values()
    assert features == {'static_shapes': 3, 'threads': 1}
    assert len(branches) == 2 and all(options == {'threads': 1} for options in branches)


def test_int8_needs_calibration_images(randomise):
    model = detector(randomise, score_thr=0.0)
    with pytest.raises(ValueError, match='needs calibration inputs'):  # refused at the features, before any branch
        build_detector_backend('openvino', model, deploy_target(model, image()), 'int8')


def test_zero_rois_take_the_eager_branch(randomise):
    model = detector(randomise, score_thr=0.0)
    deployed = build_detector_backend('onnxruntime', model, deploy_target(model, image()))
    attach(model, deployed)
    empty = model.roi_heads.mask_predictor(torch.zeros(0, 16, 14, 14))
    assert empty.shape == (0, 3, 28, 28)


def test_save_writes_each_branch_in_its_folder(tmp_path, randomise):
    model = detector(randomise, score_thr=0.0)
    deployed = build_detector_backend('onnxruntime', model, deploy_target(model, image()))
    assert isinstance(deployed, DetectorBackend) and deployed.kind == 'detector'
    files = deployed.save(str(tmp_path))
    assert set(files) == {'model.onnx', 'box_branch/model.onnx', 'mask_branch/model.onnx'}
    assert all(os.path.isfile(tmp_path / f) for f in files)
    assert deployed.describe()['roi_branches']['mask']['example_shape'][1:] == [16, 14, 14]


def test_no_detections_to_deploy_the_mask_branch_from_is_a_clear_error(randomise):
    model = detector(randomise, score_thr=1.1)  # nothing scores above 1: no RoI reaches the mask branch
    with pytest.raises(ValueError, match=r"no RoIs for its \['mask'\] branch.*--features-only"):
        build_detector_backend('torch', model, deploy_target(model, image()))
