"""OpenVINO checks of a whole deployed detector, run by test_roi_branches.py in a process of its own.

With OpenVINO RoI-branch models compiled in the pytest process, a later in-process Mask R-CNN training and prune
run crashed that process (SIGSEGV) on the CI-like machine; torch and onnxruntime branches did not. So these checks
run here and print one json line: fp32 detections against eager, branch calls, int8 branch cosines.
"""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: conftest's randomise_weights
from conftest import randomise_weights  # noqa: E402
from test_roi_branches import MASK_RCNN, image  # noqa: E402

from resbackbones.deploy import attach, build_detector_backend, deploy_target  # noqa: E402
from resbackbones.deploy.pipeline import agreement  # noqa: E402
from resbackbones.deploy.roi_branches import branch_targets, roi_features  # noqa: E402
from resbackbones.registry import MODELS  # noqa: E402


def detector():
    return randomise_weights(MODELS.build(dict(MASK_RCNN, test_cfg=dict(rcnn=dict(score_thr=0.0)))))


def main() -> None:
    torch.set_num_threads(1)
    model, x, other = detector(), image(0), image(1)
    expected = model(other, mode='predict')[0].pred_instances
    deployed = build_detector_backend('openvino', model, deploy_target(model, x))
    calls = []
    deployed.branches = {name: (lambda t, name=name, run=run: calls.append(name) or run(t))
                         for name, run in deployed.branches.items()}
    got = attach(model, deployed)(other, mode='predict')[0].pred_instances
    fp32 = dict(calls=sorted(set(calls)), detections=[len(expected.bboxes), len(got.bboxes)],
                box_diff=float((got.bboxes - expected.bboxes).abs().max()),
                score_diff=float((got.scores - expected.scores).abs().max()),
                mask_agreement=float((got.masks == expected.masks).float().mean()))
    model = detector()
    calibration = [image(seed) for seed in range(2, 5)]
    features = roi_features(model, calibration)
    int8 = build_detector_backend('openvino', model, deploy_target(model, image()), 'int8', calibration=calibration)
    cosines = {}
    for name, target in branch_targets(model, features).items():
        with torch.no_grad():
            cosines[name] = agreement(target.module(features[name]), int8.branches[name](features[name]))['cosine']
    print(json.dumps(dict(fp32=fp32, int8_cosines=cosines, calibration_rois=int8.calibration_rois,
                          roi_counts={k: len(v) for k, v in features.items()})))


if __name__ == '__main__':
    main()
