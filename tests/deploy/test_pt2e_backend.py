"""The PT2E int8 backend (torchao's x86 inductor quantizer): quantised graph, agreement after calibration, other
batch and image sizes, the saved program, and the repeated-module fix that lets torchao annotate ResNets."""
import pytest
import torch
import torchvision
from torch import nn

from resbackbones.deploy import attach, build_backend, deploy_target
from resbackbones.deploy.pipeline import agreement
from resbackbones.registry import MODELS

pytest.importorskip('torchao')
from resbackbones.deploy.pt2e_backend import separate_repeated_calls  # noqa: E402

BACKBONE = dict(type='ResNet', depth=18, base_channels=8, in_channels=1)


class SharedReLU(nn.Module):
    """One ReLU module called twice, as in torchvision's BasicBlock."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2, self.relu = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3), nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv2(self.relu(self.conv1(x))))


def innermost_paths(graph, target):
    return [next(reversed(n.meta['nn_module_stack'].values()))[0] for n in graph.nodes
            if n.op == 'call_function' and n.target == target]


def test_each_call_of_a_shared_module_gets_its_own_path():
    graph = torch.export.export(SharedReLU().eval(), (torch.randn(1, 3, 9, 9),)).module().graph
    relu = torch.ops.aten.relu.default
    assert innermost_paths(graph, relu) == ['relu', 'relu']
    separate_repeated_calls(graph)
    assert innermost_paths(graph, relu) == ['relu', 'relu@1']
    assert innermost_paths(graph, torch.ops.aten.conv2d.default) == ['conv1', 'conv2']  # single calls unchanged


def test_torchao_annotates_torchvision_resnet_after_the_fix():
    from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e
    from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as xiq

    model = torchvision.models.resnet18(num_classes=3).eval()
    exported = torch.export.export(model, (torch.randn(2, 3, 32, 32),)).module()
    separate_repeated_calls(exported.graph)
    quantizer = xiq.X86InductorQuantizer().set_global(xiq.get_default_x86_inductor_quantization_config())
    prepared = prepare_pt2e(exported, quantizer)
    observers = [m for m in prepared.modules() if 'Observer' in type(m).__name__]
    assert len(observers) > 20  # every conv input and weight is observed, the blocks' shared ReLU included


def quantize_ops(backend):
    return sum('quantize_per_tensor' in str(n.target) for n in backend.module.graph.nodes)


@pytest.mark.slow
def test_classifier_int8_agrees_saves_and_takes_other_batches(randomise, tmp_path):
    model = randomise(MODELS.build(dict(type='ImageClassifier', backbone=BACKBONE, num_classes=3)))
    target = deploy_target(model, torch.randn(1, 1, 32, 32))  # a batch of 1 must not fix the batch size
    with pytest.raises(ValueError, match='needs calibration inputs'):
        build_backend('pt2e', target, 'int8')
    backend = build_backend('pt2e', target, 'int8', calibration=[torch.randn(4, 1, 32, 32) for _ in range(4)])
    assert quantize_ops(backend) > 10  # the graph is really int8
    for batch in (3, 2):  # the second size recompiles with a symbolic batch (the grey stem conv stays fp32 for it)
        x = torch.randn(batch, 1, 32, 32)
        with torch.no_grad():
            expected = target.module(x)
        got = backend(x)
        assert got.shape == expected.shape and agreement(expected, got)['cosine'] > 0.98
    assert backend.save(str(tmp_path)) == ['model_int8.pt2']
    reloaded = torch.export.load(tmp_path / 'model_int8.pt2').module()
    with torch.no_grad():
        assert agreement(reloaded(x), got)['cosine'] > 0.999
    assert backend.describe()['calibration_inputs'] == 16
    assert backend.describe()['kept_fp32'] == ['model.backbone.conv1']  # the grey stem
    assert backend.describe()['quantized_weights'] == 20  # the 21 convs and the fc but the grey stem
    # a 1-pixel deepest map at the example's 32 x 32: export caps H, W there (was a bare guard assertion)
    assert backend.describe()['input_ranges'] == [[2, None], [1, 1], [2, 32], [2, 32]]
    with pytest.raises(ValueError, match=r'takes sizes 2\.\.32 on input axis 2 .* got \(2, 1, 48, 32\)'):
        backend(torch.randn(2, 1, 48, 32))


@pytest.mark.slow
def test_unet_int8_on_another_image_size(randomise):
    cfg = dict(type='UNet', num_classes=2, backbone=dict(BACKBONE, out_indices=('stem', 0, 1, 2, 3)),
               decoder=dict(decoder_channels=(32, 16, 16, 8, 8)))
    model = randomise(MODELS.build(cfg))
    backend = build_backend('pt2e', deploy_target(model, torch.randn(1, 1, 64, 64)), 'int8',
                            calibration=[torch.randn(2, 1, 64, 64) for _ in range(3)])
    x = torch.randn(1, 1, 50, 70)  # attach pads to the deepest stride: 64 x 96, not the exported 64 x 64
    with torch.no_grad():
        expected = model.logits(x)
    got = attach(model, backend).logits(x)
    assert got.shape == expected.shape and agreement(expected, got)['cosine'] > 0.98


VOLUMETRIC = {
    'unet3d': (dict(type='UNet', num_classes=3, decoder=dict(decoder_channels=(16, 8, 8, 8)),
                    backbone=dict(type='VolumeResNet', depth=18, base_channels=8, in_channels=1, num_stages=3,
                                  out_indices=('stem', 0, 1, 2))), (1, 1, 16, 16, 16)),
    # only the classifier's linear layer was quantised: an fp32 I3D reported as int8
    'i3d': (dict(type='Recognizer3D', backbone=dict(type='ResNet3d', depth=18, base_channels=8, pretrained2d=False),
                 cls_head=dict(type='I3DHead', num_classes=3, in_channels=64)), (2, 3, 4, 32, 32)),
    # images run through the 3D convolutions of OmniResNet's still-image copy
    'omnisource_images': (dict(type='RecognizerOmni', backbone=dict(type='OmniResNet', layers=(1, 1, 1, 1),
                                                                    base_channels=8),
                               cls_head=dict(type='OmniHead', image_classes=5, video_classes=3)), (2, 3, 32, 32)),
}


@pytest.mark.parametrize('task', sorted(VOLUMETRIC))
def test_a_model_with_3d_convolutions_is_refused_rather_than_left_fp32(task):
    # X86InductorQuantizer annotates 2D convolutions only: the 3D U-Net came out fp32 throughout, reported as int8
    cfg, shape = VOLUMETRIC[task]
    model = MODELS.build(cfg).eval()
    x = torch.randn(shape)
    with pytest.raises(ValueError, match=r'3D convolutions \(e\.g\. backbone\.conv1\) that would stay fp32: use '
                                         r'--backend openvino'):
        build_backend('pt2e', deploy_target(model, x), 'int8', calibration=[x])


def test_a_model_with_nothing_to_quantise_is_refused():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU()).eval()  # a one-channel conv stays fp32 (see below)
    x = torch.randn(2, 1, 16, 16)
    with pytest.raises(ValueError, match='quantised no convolution or linear layer of the module'):
        build_backend('pt2e', deploy_target(model, x), 'int8', calibration=[x])


@pytest.mark.slow
def test_a_strided_example_and_strided_calls(randomise):
    # A slide-mode U-Net's example is one window of a larger image: a strided view. Exported and called as such,
    # inductor's compiled graph failed ('NoneType' object has no attribute 'size') on the next input.
    cfg = dict(type='UNet', num_classes=2, backbone=dict(BACKBONE, out_indices=('stem', 0, 1, 2, 3)),
               decoder=dict(decoder_channels=(32, 16, 16, 8, 8)))
    model = randomise(MODELS.build(cfg))
    image = torch.randn(2, 1, 70, 140)
    window = image[..., 3:67, 5:69]
    assert not window.is_contiguous()
    backend = build_backend('pt2e', deploy_target(model, window), 'int8', calibration=[window])
    for x in (window, torch.randn(3, 1, 64, 64), image[..., :64, 70:134]):
        with torch.no_grad():
            expected = model.logits(x)
        assert agreement(expected, backend(x))['cosine'] > 0.98
