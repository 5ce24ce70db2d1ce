"""Every backend against torch fp32 on tiny task models: fp32 within 1e-4, bf16 close, int8 calibrated; switches."""
import pytest
import torch

from resbackbones.deploy import attach, build_backend, deploy_target
from resbackbones.deploy.backend import require
from resbackbones.deploy.pipeline import agreement
from resbackbones.registry import MODELS

BACKBONE = dict(type='ResNet', depth=18, base_channels=8, in_channels=1)
TASKS = {
    'classifier': (dict(type='ImageClassifier', backbone=BACKBONE, num_classes=3), (2, 1, 32, 32)),
    'backbone': (dict(BACKBONE, out_indices=(0, 1, 2, 3)), (2, 1, 32, 32)),
    'unet': (dict(type='UNet', num_classes=2, backbone=dict(BACKBONE, out_indices=('stem', 0, 1, 2, 3)),
                  decoder=dict(decoder_channels=(32, 16, 16, 8, 8))), (1, 1, 64, 64)),
    # volumetric, depth downsampled less than H and W: the example is padded per axis (8 along D, 16 in-plane)
    'unet3d': (dict(type='UNet', num_classes=3, decoder=dict(decoder_channels=(16, 8, 8, 8)),
                    backbone=dict(type='VolumeResNet', depth=18, base_channels=8, in_channels=1, num_stages=3,
                                  out_indices=('stem', 0, 1, 2), depth_strides=(1, 1, 2))), (1, 1, 12, 28, 30)),
}
FP32 = [('torch', {}), ('torch', {'channels_last': False, 'fold': False}), ('onnxruntime', {}), ('openvino', {})]


def built(task, randomise):
    cfg, shape = TASKS[task]
    model = randomise(MODELS.build(cfg))
    return model, deploy_target(model, torch.randn(shape))


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize('backend, options', FP32)
@pytest.mark.parametrize('task', sorted(TASKS))
def test_fp32_parity_on_another_batch_size(task, backend, options, randomise):
    model, target = built(task, randomise)
    x = torch.randn(3, *target.example.shape[1:])  # dynamic batch: not the exported one
    with torch.no_grad():
        expected = as_tuple(target.module(x))
    got = as_tuple(build_backend(backend, target, 'fp32', **options)(x))
    assert len(got) == len(expected)
    for a, b in zip(expected, got):
        assert a.shape == b.shape
        assert (a - b).abs().max().item() <= 1e-4 * max(1.0, a.abs().max().item())


@pytest.mark.parametrize('backend', ['torch', 'openvino'])
def test_bf16_is_close_but_not_exact(backend, randomise):
    _, target = built('classifier', randomise)
    with torch.no_grad():
        expected = target.module(target.example)
    got = build_backend(backend, target, 'bf16')(target.example)
    check = agreement(expected, got)
    assert got.dtype == torch.float32 and check['cosine'] > 0.999
    assert check['max_abs_diff'] > 0  # bf16 really ran (fp32 would match to ~1e-7)


def test_openvino_int8_after_calibration(randomise):
    _, target = built('classifier', randomise)
    calibration = [torch.randn(4, 1, 32, 32) for _ in range(4)]
    backend = build_backend('openvino', target, 'int8', calibration=calibration)
    with torch.no_grad():
        expected = target.module(target.example)
    assert agreement(expected, backend(target.example))['cosine'] > 0.98
    with pytest.raises(ValueError, match='needs calibration inputs'):
        build_backend('openvino', target, 'int8')


@pytest.mark.parametrize('static_shapes, expected_static, dynamic_used', [
    (0, [], True), (1, [(2, 1, 32, 32)], True), (2, [(2, 1, 32, 32), (3, 1, 32, 32)], True),
    (None, [(2, 1, 32, 32), (3, 1, 32, 32)], True), (3, [(2, 1, 32, 32), (3, 1, 32, 32), (5, 1, 32, 32)], False)])
def test_openvino_compiles_the_shapes_it_meets(static_shapes, expected_static, dynamic_used, randomise):
    # the example's shape first, then shapes in the order called, up to static_shapes; the rest run dynamic
    _, target = built('classifier', randomise)
    backend = build_backend('openvino', target, **({} if static_shapes is None else {'static_shapes': static_shapes}))
    for batch in (3, 5, 3, 2):
        x = torch.randn(batch, 1, 32, 32)
        with torch.no_grad():
            expected = target.module(x)
        assert (backend(x) - expected).abs().max().item() <= 1e-4 * max(1.0, expected.abs().max().item())
    assert list(backend.static) == expected_static
    assert (backend.dynamic is not None) == dynamic_used
    assert backend.describe()['static_shapes'] == [list(s) for s in expected_static]


def test_classifier_graph_pools_without_reshapes(randomise):
    # global pooling reduces the last map in place and one clip is not averaged: no Reshape for the runtime to
    # reorder around (the flatten-then-mean form made OpenVINO copy the last feature map out of its layout)
    _, target = built('classifier', randomise)
    ops = [op.get_type_name() for op in build_backend('openvino', target).model.get_ops()]
    assert ops.count('ReduceMean') == 1 and 'Reshape' not in ops


@pytest.mark.parametrize('value', [-1, 1.5, True])
def test_openvino_static_shapes_must_be_a_count(value, randomise):
    _, target = built('classifier', randomise)
    with pytest.raises(ValueError, match=f'static_shapes must be an integer >= 0; got {value!r}'):
        build_backend('openvino', target, static_shapes=value)


def test_unet_other_sizes_through_attach(randomise):
    # the graph is traced without padding; attach pads any size to the deepest stride and crops back
    model, target = built('unet', randomise)
    x = torch.randn(1, 1, 50, 70)
    with torch.no_grad():
        expected = model.logits(x)
    backend = build_backend('onnxruntime', target)
    attach(model, backend)
    got = model.logits(x)
    assert got.shape == expected.shape and torch.allclose(got, expected, atol=1e-4)
    # its threads do not spin after a run (they would take the cores from what the process does next)
    assert backend.session.get_session_options().get_session_config_entry('session.intra_op.allow_spinning') == '0'


def test_volumetric_unet_pads_per_axis_and_tiles_its_patches(randomise):
    from resbackbones.deploy.loading import _shape_for
    model, target = built('unet3d', randomise)
    assert tuple(target.example.shape[2:]) == (16, 32, 32)  # D to a multiple of 8, H and W of 16
    model.test_cfg = dict(model.test_cfg, mode='slide', patch_size=(8, 16, 16))
    tiles = _shape_for(model, torch.randn(1, 1, 20, 16, 40))  # D: 2 whole patches, W: 2 (and 8 columns left)
    assert [tuple(t.shape) for t in tiles] == [(1, 1, 8, 16, 16)] * 4
    small = _shape_for(model, torch.ones(1, 1, 5, 16, 16))  # smaller than a patch: zero-padded to it
    assert len(small) == 1 and small[0].shape[2] == 8 and small[0][:, :, 5:].abs().sum() == 0


GN = dict(type='GN', num_groups=8)


@pytest.mark.parametrize('cfg, shape', [
    (dict(type='ImageClassifier', num_classes=3,
          backbone=dict(type='ResNet', depth=18, base_channels=16, in_channels=1, norm_cfg=GN)), (2, 1, 32, 32)),
    (dict(type='UNet', num_classes=3, decoder=dict(decoder_channels=(16, 8, 8, 8), norm_cfg=GN),
          backbone=dict(type='VolumeResNet', depth=18, base_channels=8, in_channels=1, num_stages=3,
                        out_indices=('stem', 0, 1, 2), norm_cfg=GN)), (1, 1, 16, 16, 16)),
])
def test_openvino_keeps_a_group_norm_model_dynamic_in_fp32(cfg, shape, randomise):
    # OpenVINO 2026.4 crashed (SIGSEGV) compiling either for its fixed shape in fp32 (bf16 and int8 compile)
    model = randomise(MODELS.build(cfg))
    x = torch.randn(shape)
    target = deploy_target(model, x)
    backend = build_backend('openvino', target, 'fp32')
    with torch.no_grad():
        assert (backend(x) - target.module(x)).abs().max().item() <= 1e-4 * max(1.0, target.module(x).abs().max())
    assert backend.describe()['static_shapes'] == []
    with pytest.raises(ValueError, match='static_shapes=1: OpenVINO crashes'):
        build_backend('openvino', target, 'fp32', static_shapes=1)
    assert build_backend('openvino', target, 'bf16').describe()['static_shapes'] == [list(shape)]


def test_detector_features_in_backend_heads_in_torch(randomise):
    cfg = dict(type='MaskRCNN', backbone=dict(BACKBONE, norm_cfg=dict(type='BN')),
               neck=dict(type='FPN', out_channels=16),
               roi_head=dict(num_classes=1, fc_out_channels=32, mask_channels=(8, 8)),
               data_preprocessor=dict(type='ImgDataPreprocessor', mean=[0.0], std=[1.0]))
    model = randomise(MODELS.build(cfg))
    x = torch.randn(1, 1, 64, 96)
    expected = model(x, mode='predict')[0].pred_instances
    backend = build_backend('openvino', deploy_target(model, x))
    got = attach(model, backend)(x, mode='predict')[0].pred_instances
    assert len(got.bboxes) == len(expected.bboxes)
    assert torch.allclose(got.scores, expected.scores, atol=1e-3)


@pytest.mark.slow
def test_torch_switches_are_recorded_and_compile_runs(randomise):
    _, target = built('classifier', randomise)
    backend = build_backend('torch', target, 'fp32', compile=True)
    with torch.no_grad():
        expected = target.module(target.example)
    assert torch.allclose(backend(target.example), expected, atol=1e-4)
    info = backend.describe()
    assert info['compile'] and info['channels_last'] and info['folded_pairs'] == 20


@pytest.mark.parametrize('task, channels_last', [('classifier', True), ('unet3d', False)])
def test_the_manifest_says_the_layout_that_runs(task, channels_last, randomise):
    """A 3D model stays NCDHW whatever is asked; the manifest said channels_last for it."""
    _, target = built(task, randomise)
    backend = build_backend('torch', target, 'fp32')
    assert backend.describe()['channels_last'] is channels_last
    assert (backend.memory_format is torch.channels_last) is channels_last


OMNI = dict(type='RecognizerOmni', backbone=dict(type='OmniResNet', layers=(1, 1, 1, 1), base_channels=8),
            cls_head=dict(type='OmniHead', image_classes=5, video_classes=3))


@pytest.mark.parametrize('backend, precision', [('torch', 'fp32'), ('onnxruntime', 'fp32'), ('openvino', 'fp32'),
                                                ('openvino', 'int8')])
def test_omnisource_images_deploy_through_the_backbones_still_image_copy(backend, precision, randomise):
    """OmniResNet's image path swaps summed kernels in at each call (torch.func), which torch.jit (ONNX,
    OpenVINO) cannot trace, and the torch backend set its 3D weights channels_last: all four
    failed on an image example. The deployed part is the still-image copy and gives the model's own logits."""
    model = randomise(MODELS.build(OMNI))
    example, images = torch.rand(2, 3, 32, 32), torch.rand(3, 3, 32, 32)
    calibration = dict(calibration=[example]) if precision == 'int8' else {}
    run = build_backend(backend, deploy_target(model, example), precision, **calibration)
    with torch.no_grad():
        expected = model.tensor(images)
    got = run(images)
    assert got.shape == expected.shape == (3, 5)
    if precision == 'fp32':
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    else:
        assert agreement(expected, got)['cosine'] > 0.98


def test_openvino_int8_names_nncf_when_only_it_is_missing(randomise, monkeypatch):
    from resbackbones.deploy import backend as backend_module
    real = backend_module.importlib.util.find_spec
    monkeypatch.setattr(backend_module.importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'nncf' else real(name, *a))
    _, target = built('classifier', randomise)
    build_backend('openvino', target, 'fp32')  # nncf is only for int8
    with pytest.raises(ImportError, match="backend 'openvino' needs nncf, which is not installed"):
        build_backend('openvino', target, 'int8')


@pytest.mark.parametrize('name, precision, message', [
    ('tensorrt', 'fp32', "unknown backend 'tensorrt'"),
    ('onnxruntime', 'int8', "supports precision \\['fp32'\\]"),
    ('torch', 'int8', "supports precision \\['fp32', 'bf16'\\]"),
])
def test_bad_backend_or_precision(name, precision, message, randomise):
    _, target = built('classifier', randomise)
    with pytest.raises(ValueError, match=message):
        build_backend(name, target, precision)


def test_missing_runtime_is_one_importerror():
    with pytest.raises(ImportError, match="needs no_such_runtime_pkg, which is not installed: pip install"):
        require('openvino', 'no_such_runtime_pkg')



@pytest.mark.parametrize('backend', ['onnxruntime', 'openvino'])
@pytest.mark.parametrize('task, shape, message', [
    # the U-Net's padding is outside the graph: other sizes gave wrong logits of the right shape
    ('unet', (1, 1, 50, 70), r'multiples of \(32, 32\)'),
    # a volume's graph has fixed D, H, W: OpenVINO returned an output of the example's size for a larger volume
    ('unet3d', (1, 1, 16, 32, 64), r'exported for inputs of spatial size \(16, 32, 32\) only'),
])
def test_exported_graph_refuses_a_spatial_size_it_was_not_made_for(task, shape, message, backend, randomise):
    _, target = built(task, randomise)
    deployed = build_backend(backend, target)
    with pytest.raises(ValueError, match=message):
        deployed(torch.randn(shape))
    assert deployed(target.example).shape[2:] == target.example.shape[2:]  # its own size still runs


@pytest.mark.parametrize('static_shapes', [0, 2])
def test_openvino_refuses_inputs_its_model_was_not_exported_for(static_shapes, randomise):
    """A 1-channel classifier fed 3 channels, and a TSN of 8 segments fed 4: OpenVINO returned an empty
    (0, classes) output or reshaped the model to them (onnxruntime refuses both)."""
    _, target = built('classifier', randomise)
    deployed = build_backend('openvino', target, static_shapes=static_shapes)
    with pytest.raises(ValueError, match=r'openvino: the model was exported for inputs of shape \[\?,1,\?,\?\].*'
                                         r'got \(2, 3, 32, 32\)'):
        deployed(torch.randn(2, 3, 32, 32))
    tsn = randomise(MODELS.build(dict(type='Recognizer2D', backbone=dict(BACKBONE, in_channels=3),
                                      cls_head=dict(type='TSNHead', num_classes=4, in_channels=64))))
    video = build_backend('openvino', deploy_target(tsn, torch.randn(2, 8, 3, 32, 32)), static_shapes=static_shapes)
    with pytest.raises(ValueError, match=r'got \(2, 4, 3, 32, 32\)'):
        video(torch.randn(2, 4, 3, 32, 32))
    assert video(torch.randn(3, 8, 3, 32, 32)).shape == (3, 4)  # another batch size still runs


def test_video_recognizer_onnx_output_rows_are_clips_not_inputs(randomise, tmp_path):
    import onnx

    from resbackbones.deploy.pipeline import top1_agreement
    model = randomise(MODELS.build(dict(type='Recognizer3D', num_classes=3, dropout=0.0,
                                        backbone=dict(type='ResNet3d', depth=18, base_channels=8))))
    x = torch.randn(2, 3, 3, 4, 16, 16)  # two videos of three clips
    target = deploy_target(model, x)
    backend = build_backend('onnxruntime', target)
    backend.save(str(tmp_path))
    graph = onnx.load(str(tmp_path / 'model.onnx')).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == 'batch'
    assert graph.output[0].type.tensor_type.shape.dim[0].dim_param == 'rows'  # 6 rows for a batch of 2
    # one vote per video (its clips averaged as predict does): it was the clip count, 3.0
    assert top1_agreement(model, target.module, backend, [x, x[:1]]) == 1.0


def test_a_deformable_model_is_refused_by_onnx_in_one_line_and_runs_in_openvino(randomise, capfd):
    model = randomise(MODELS.build(dict(type='ImageClassifier', num_classes=3, backbone=dict(
        BACKBONE, dcn=dict(type='DCNv2', deform_groups=1), stage_with_dcn=(False, True, True, True)))))
    target = deploy_target(model, torch.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r'ONNX has no deformable convolution .*e.g. model.backbone.layer2.0.conv2'):
        build_backend('onnxruntime', target)
    assert len(capfd.readouterr().err.splitlines()) < 5  # the exporter printed ~200 lines of graph first
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(build_backend('openvino', target)(x), target.module(x), atol=1e-4)
