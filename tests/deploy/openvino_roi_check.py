"""OpenVINO checks of a whole deployed detector, run by test_roi_branches.py in a process of its own.

They print one json line: fp32 detections against eager, branch calls, int8 branch cosines, and the exit status
of a short Mask R-CNN training run (the nuclei demo, 2 iterations) started after every deployed model has been
garbage-collected. That run used to die here (SIGSEGV or abort in unrelated code): each backend compiled through
a temporary openvino.Core, and compiled models that outlived it corrupted the heap when collected. A crash is why
this runs in a child process.
"""
import gc
import importlib.util
import json
import sys
import tempfile
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


def checks() -> dict:
    model, x, other = detector(), image(0), image(1)
    expected = model(other, mode='predict')[0].pred_instances
    deployed = build_detector_backend('openvino', model, deploy_target(model, x))
    static = {'features': deployed.features.describe()['static_shapes'],
              **{name: branch.describe()['static_shapes'] for name, branch in deployed.branches.items()}}
    calls = []
    deployed.branches = {name: (lambda t, name=name, run=run: calls.append(name) or run(t))
                         for name, run in deployed.branches.items()}
    got = attach(model, deployed)(other, mode='predict')[0].pred_instances
    fp32 = dict(calls=sorted(set(calls)), detections=[len(expected.bboxes), len(got.bboxes)],
                box_diff=float((got.bboxes - expected.bboxes).abs().max()),
                score_diff=float((got.scores - expected.scores).abs().max()),
                mask_agreement=float((got.masks == expected.masks).float().mean()), static_shapes=static)
    model = detector()
    calibration = [image(seed) for seed in range(2, 5)]
    features = roi_features(model, calibration)
    int8 = build_detector_backend('openvino', model, deploy_target(model, image()), 'int8', calibration=calibration)
    cosines = {}
    for name, target in branch_targets(model, features).items():
        with torch.no_grad():
            cosines[name] = agreement(target.module(features[name]), int8.branches[name](features[name]))['cosine']
    return dict(fp32=fp32, int8_cosines=cosines, calibration_rois=int8.calibration_rois,
                roi_counts={k: len(v) for k, v in features.items()})


def train_after_collecting() -> int:
    """The nuclei demo's exit status for 2 iterations (1: targets missed, as 2 iterations must), run after a
    garbage collection that frees every OpenVINO model the checks compiled."""
    gc.collect()
    repo = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location('nuclei_demo', repo / 'tools/demos/nuclei_maskrcnn.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    demo.prepare_data(repo / 'data')
    with tempfile.TemporaryDirectory() as work:
        return demo.main(['--iters', '2', '--work-dir', work])


def main() -> None:
    torch.set_num_threads(1)
    result = checks()
    result['train_after_collect'] = train_after_collecting()
    print(json.dumps(result))


if __name__ == '__main__':
    main()
