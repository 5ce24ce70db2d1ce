"""tools/deploy.py end to end on a tiny config: every backend writes its files and a manifest atomically,
agrees with torch fp32, and a bad input is one line with exit status 2 and nothing written."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.hooks import EMAHook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: the shared tiny set-up
from tiny import load_tool, tiny_setup  # noqa: E402

from resbackbones.deploy import backend as backend_module  # noqa: E402
from resbackbones.deploy.pipeline import is_ema_hook  # noqa: E402
from resbackbones.engine.cli import build_runner, run_tool  # noqa: E402
from resbackbones.engine.config import load_config  # noqa: E402
from resbackbones.registry import MODELS  # noqa: E402

REPO = Path(__file__).resolve().parents[2]



@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny classifier config over real-format image folders and a checkpoint of its (seeded) weights."""
    tmp = tmp_path_factory.mktemp('deploy')
    config = tiny_setup(tmp)
    torch.manual_seed(0)
    model = MODELS.build(load_config(str(config)).model)
    ckpt = tmp / 'model.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    return tmp, config, ckpt


@pytest.mark.parametrize('backend, files', [('torch', {'model_folded.pth', 'torch_switches.json'}),
                                            ('onnxruntime', {'model.onnx'}),
                                            ('openvino', {'model.xml', 'model.bin'})])
def test_deploy_writes_artefacts_and_agrees(tiny, backend, files, capsys):
    tmp, config, ckpt = tiny
    out = tmp / f'out_{backend}'
    assert run_tool(load_tool('deploy').main, [str(config), str(ckpt), '--backend', backend, '--out', str(out),
                                         '--eval'], prog='deploy.py') == 0
    manifest = json.loads((out / 'deploy.json').read_text())
    assert set(p.name for p in out.iterdir()) == files | {'deploy.json'} == set(manifest['files'])
    assert manifest['kind'] == 'classifier' and manifest['backend'] == backend
    assert manifest['agreement_with_torch_fp32']['max_rel_diff'] < 1e-4
    assert manifest['metrics']['change']['accuracy/top1'] == 0.0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])['backend'] == backend
    if backend == 'openvino':  # the saved IR takes any batch; the example's shape was also compiled for itself
        assert manifest['static_shapes'] == [manifest['example_shape']]
    if backend == 'onnxruntime':
        import onnx
        graph = onnx.load(str(out / 'model.onnx'))
        assert graph.opset_import[0].version == manifest['opset'] == 17
        assert graph.graph.input[0].type.tensor_type.shape.dim[0].dim_param == 'batch'
        assert not any(node.op_type == 'BatchNormalization' for node in graph.graph.node)


@pytest.mark.parametrize('backend, files', [('openvino', {'model.xml', 'model.bin'}), ('pt2e', {'model_int8.pt2'})])
def test_int8_calibrates_on_training_images(tiny, backend, files):
    tmp, config, ckpt = tiny
    out = tmp / f'out_int8_{backend}'
    assert run_tool(load_tool('deploy').main, [str(config), str(ckpt), '--backend', backend, '--precision', 'int8',
                                         '--calib-batches', '2', '--out', str(out)], prog='deploy.py') == 0
    manifest = json.loads((out / 'deploy.json').read_text())
    assert set(manifest['files']) == files | {'deploy.json'}
    assert manifest['calibration_inputs'] == 8  # 2 batches of 4 training images
    assert manifest['agreement_with_torch_fp32']['cosine'] > 0.95


KEPT = '{"files": ["deploy.json"]}'  # an earlier deployment's manifest, listing what it wrote


@pytest.mark.parametrize('extra, message', [
    (['--backend', 'onnxruntime', '--precision', 'int8'], "backend 'onnxruntime' supports precision ['fp32']"),
    (['--backend', 'openvino', '--compile'], '--compile are torch switches'),
    (['--backend', 'torch', '--static-shapes', '1'], "--static-shapes is an openvino switch; got backend 'torch'"),
    (['--backend', 'openvino', '--static-shapes', '-1'], '--static-shapes must be >= 0; got -1'),
    (['--backend', 'torch', 'MISMATCH'], 'does not match config'),
    (['--backend', 'torch', 'MISSING'], 'CHECKPOINT: checkpoint file not found'),
    (['--backend', 'openvino', 'NOT_INSTALLED'], "backend 'openvino' needs openvino, which is not installed"),
    # an --out that no deploy wrote is never replaced (`--out .` in a project folder emptied it)
    (['--backend', 'torch', 'NOT_A_DEPLOYMENT'], "out_bad holds other files (e.g. ['notes.txt']); it would be "
                                                 "replaced as a whole"),
    (['--backend', 'torch', 'BELOW_A_FILE'], 'out_bad/sub: '),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tiny, extra, message, capsys, monkeypatch):
    tmp, config, ckpt = tiny
    if 'MISMATCH' in extra:
        other = MODELS.build(dict(load_config(str(config)).model, num_classes=5))
        ckpt = tmp / 'other.pth'
        torch.save(other.state_dict(), ckpt)
    if 'MISSING' in extra:
        ckpt = tmp / 'missing.pth'
    if 'NOT_INSTALLED' in extra:
        real = backend_module.importlib.util.find_spec
        monkeypatch.setattr(backend_module.importlib.util, 'find_spec',
                            lambda name, *a: None if name == 'openvino' else real(name, *a))
    out = tmp / 'out_bad'
    shutil.rmtree(out, ignore_errors=True)
    if 'BELOW_A_FILE' in extra:
        out.write_text('a file')
        target = out / 'sub'
    else:
        out.mkdir()
        target = out
        # an earlier deployment (its manifest), which the new one may replace, or somebody's files, which it may not
        (out / ('notes.txt' if 'NOT_A_DEPLOYMENT' in extra else 'deploy.json')).write_text(KEPT)
    extra = [e for e in extra if e not in ('MISMATCH', 'MISSING', 'NOT_INSTALLED', 'NOT_A_DEPLOYMENT', 'BELOW_A_FILE')]
    code = run_tool(load_tool('deploy').main, [str(config), str(ckpt), '--out', str(target), *extra],
                    prog='deploy.py')
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith('deploy.py: error: ') and message in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in out.parent.iterdir() if p.name.startswith('.out_bad')] == []  # no temporaries left
    if out.is_dir():
        assert [(p.name, p.read_text()) for p in out.iterdir()] in ([('notes.txt', KEPT)], [('deploy.json', KEPT)])
    else:
        assert out.read_text() == 'a file'


def test_redeploy_replaces_only_what_an_earlier_deploy_wrote(tiny, capsys):
    tmp, config, ckpt = tiny
    out = tmp / 'out_again'
    deploy = load_tool('deploy').main
    for backend in ('onnxruntime', 'torch'):  # a deployment folder is replaced whole by the next one
        argv = [str(config), str(ckpt), '--backend', backend, '--out', str(out)]
        assert run_tool(deploy, argv, prog='deploy.py') == 0
    assert {p.name for p in out.iterdir()} == {'model_folded.pth', 'torch_switches.json', 'deploy.json'}
    # inputs copied into it were deleted with it, and the manifest named a checkpoint that no longer existed
    shutil.copy(ckpt, out / 'model.pth')
    capsys.readouterr()
    assert run_tool(deploy, [str(config), str(out / 'model.pth'), '--backend', 'torch', '--out', str(out)],
                    prog='deploy.py') == 2
    assert f'checkpoint {out / "model.pth"} lies inside --out' in capsys.readouterr().err
    (out / 'model.pth').rename(out / 'notes.pth')  # not an input, but no deploy wrote it either
    assert run_tool(deploy, [str(config), str(ckpt), '--backend', 'torch', '--out', str(out)], prog='deploy.py') == 2
    assert "holds other files (e.g. ['deploy.json', 'model_folded.pth', 'notes.pth'])" in capsys.readouterr().err
    assert {p.name for p in out.iterdir()} == {'model_folded.pth', 'torch_switches.json', 'deploy.json', 'notes.pth'}


def test_a_config_with_an_ema_hook_deploys_and_evaluates(tmp_path, capsys):
    """EMAHook saves its average as the checkpoint's weights; evaluating the backend used to fail in the hook's
    after_load_checkpoint (it has no average before before_run)."""
    config = tiny_setup(tmp_path, extra="custom_hooks = [dict(type='EMAHook', momentum=0.5)]", max_epochs=2)
    cfg = load_config(str(config))
    cfg.work_dir, cfg.launcher = str(tmp_path / 'train'), 'none'
    build_runner(cfg).train()
    ckpt = tmp_path / 'train' / 'epoch_2.pth'
    assert 'ema_state_dict' in torch.load(ckpt, weights_only=True)
    capsys.readouterr()
    assert run_tool(load_tool('test').main, [str(config), str(ckpt), '--work-dir', str(tmp_path / 'test')],
                    prog='test.py') == 0
    tested = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    out = tmp_path / 'deployed'
    assert run_tool(load_tool('deploy').main, [str(config), str(ckpt), '--backend', 'torch', '--out', str(out),
                                               '--eval'], prog='deploy.py') == 0
    metrics = json.loads((out / 'deploy.json').read_text())['metrics']
    assert metrics['torch_fp32'] == tested and metrics['change']['accuracy/top1'] == 0.0


@pytest.mark.parametrize('hook, ema', [(dict(type='EMAHook'), True), (dict(type='mmengine.EMAHook'), True),
                                       (dict(type=EMAHook), True), (EMAHook(), True),
                                       (dict(type='ChannelsLastHook'), False), (dict(type='NoSuchHook'), False)])
def test_ema_hooks_are_recognised_in_every_form_a_config_gives(hook, ema):
    assert is_ema_hook(hook) is ema


@pytest.mark.parametrize('detector, features_only', [('mask', False), ('mask', True), ('faster', False)])
def test_detector_deploys_with_its_roi_branches(tmp_path, detector, features_only):
    """A tiny Mask R-CNN on COCO-format files: the box and mask branches are deployed beside the features (each in
    its folder) unless --features-only, and the deployed model's COCO metrics equal torch fp32's. A Faster R-CNN
    (the same without masks) deploys its box branch alone."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared COCO writer
    from coco_fixtures import tiny_maskrcnn_config
    config = tiny_maskrcnn_config(tmp_path)
    if detector == 'faster':
        config.write_text(config.read_text() + "model = dict(type='FasterRCNN', roi_head=dict(mask_channels=None))\n"
                          "val_evaluator = dict(metric=['bbox'])\ntest_evaluator = val_evaluator\n")
    torch.manual_seed(0)
    model = MODELS.build(load_config(str(config)).model)
    ckpt = tmp_path / 'model.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    out = tmp_path / 'out'
    argv = [str(config), str(ckpt), '--backend', 'openvino', '--out', str(out), '--eval']
    # A process of its own: with the RoI branches compiled by OpenVINO in this pytest process, a later in-process
    # training run (nuclei demo, then prune's fine-tuning) crashed the process (SIGSEGV) on this machine.
    done = subprocess.run([sys.executable, str(REPO / 'tools/deploy.py'), *argv,
                           *(['--features-only'] if features_only else [])], capture_output=True, text=True,
                          env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / 'deploy.json').read_text())
    branch_files = {f for f in manifest['files'] if '/' in f}
    if features_only:
        assert branch_files == set() and 'roi_branches' not in manifest
    elif detector == 'faster':
        assert branch_files == {'box_branch/model.xml', 'box_branch/model.bin'} and list(manifest['roi_branches']) \
            == ['box']
    else:
        assert branch_files == {'box_branch/model.xml', 'box_branch/model.bin', 'mask_branch/model.xml',
                                'mask_branch/model.bin'}
        assert all((out / f).is_file() for f in branch_files)
        assert manifest['roi_branches']['mask']['example_shape'][1:] == [16, 14, 14]
    assert all(b['agreement_with_torch_fp32']['max_rel_diff'] < 1e-4 for b in manifest.get('roi_branches', {}).values())
    change = manifest['metrics']['change']
    assert ('coco/segm_mAP' in change) == (detector == 'mask') and 'coco/bbox_mAP' in change
    assert all(abs(v) < 1e-3 for v in change.values())


def test_eval_measures_the_backend_and_refuses_a_predict_that_bypasses_it(tiny, monkeypatch):
    """--eval's backend figures are the backend's: a backend with other logits gives other metrics, and a model
    whose predict never reaches the deployed part is refused instead of reporting torch's figures as the
    backend's (classifiers and face models did, after their predict stopped calling tensor())."""
    from resbackbones.deploy import pipeline
    tmp, config, ckpt = tiny
    cfg = load_config(str(config))
    reference = pipeline.evaluate(cfg, str(ckpt))
    classes = cfg.model.num_classes
    wrong = pipeline.evaluate(cfg, str(ckpt), lambda x: torch.arange(classes, dtype=torch.float).repeat(len(x), 1))
    assert wrong != reference  # every image now predicted as the last class
    monkeypatch.setattr(pipeline, 'attach', lambda model, backend: model)
    with pytest.raises(ValueError, match="ImageClassifier's test never called the deployed part"):
        pipeline.evaluate(cfg, str(ckpt), lambda x: x)


def test_face_model_deploys_int8_and_evaluates(tmp_path):
    """The digits open-set face config on tiny identity folders: IResNet's BN-first blocks fold, int8 calibrates
    on the identity images that HalfComposedFaceDataset composes (not on composed ones, and with their own loader,
    not the .bin's), and --eval scores the verification pairs through the backend."""
    from PIL import Image
    rng = np.random.default_rng(0)
    for digit in range(10):
        pattern = rng.integers(0, 16, (8, 8)) * 16
        folder = tmp_path / 'ids' / str(digit)
        folder.mkdir(parents=True)
        for k in range(4):
            noisy = np.clip(pattern + rng.normal(0, 10, pattern.shape), 0, 255).astype(np.uint8)
            Image.fromarray(noisy).save(folder / f'{k}.png')
    assert run_tool(load_tool('face/make_bin').main, [str(tmp_path / 'ids'), '--identities', '7', '8', '9',
                                                      '--pairs', '10', '--out', str(tmp_path / 'pairs.bin')],
                    prog='make_bin.py') == 0
    config = tmp_path / 'face.py'
    config.write_text(f"""_base_ = [{str(REPO / 'configs/arcface/iresnet-tiny_digits-openset_arcface.py')!r}]
train_dataloader = dict(batch_size=8, dataset=dict(dataset=dict(data_root={str(tmp_path / 'ids')!r})))
val_dataloader = dict(batch_size=8, dataset=dict(bin_file={str(tmp_path / 'pairs.bin')!r}))
test_dataloader = val_dataloader
""")
    torch.manual_seed(0)
    ckpt = tmp_path / 'model.pth'
    torch.save({'state_dict': MODELS.build(load_config(str(config)).model).state_dict()}, ckpt)
    out = tmp_path / 'out'
    assert run_tool(load_tool('deploy').main, [str(config), str(ckpt), '--backend', 'openvino', '--precision', 'int8',
                                               '--calib-batches', '2', '--out', str(out), '--eval'],
                    prog='deploy.py') == 0
    manifest = json.loads((out / 'deploy.json').read_text())
    assert manifest['kind'] == 'model' and manifest['calibration_inputs'] == 16  # 2 batches of 8 digit images
    assert manifest['agreement_with_torch_fp32']['cosine'] > 0.95
    assert set(manifest['metrics']['openvino']) >= {'verification/accuracy', 'verification/best_threshold'}
