"""Conv + BN folding: outputs of every task model unchanged within 1e-5, BNs gone, bad inputs named."""
import pytest
import torch
from torch import nn

from resbackbones.deploy import deploy_target, find_conv_bn_pairs, fold_conv_bn
from resbackbones.layers.norm import FrozenBatchNorm
from resbackbones.registry import MODELS

BACKBONE = dict(type='ResNet', depth=18, base_channels=8, in_channels=1)
MODELS_AND_INPUTS = {
    'classifier': (dict(type='ImageClassifier', backbone=BACKBONE, num_classes=3), (2, 1, 32, 32)),
    # SyncBN (as the r2plus1d configs) was left unfolded, without a word: it is no BatchNorm2d
    'syncbn_classifier': (dict(type='ImageClassifier', backbone=dict(BACKBONE, norm_cfg=dict(type='SyncBN')),
                               num_classes=3), (2, 1, 32, 32)),
    'bottleneck_backbone': (dict(type='ResNet', depth=50, base_channels=8, out_indices=(0, 1, 2, 3)),
                            (2, 3, 64, 64)),
    'unet': (dict(type='UNet', num_classes=2, backbone=dict(BACKBONE, out_indices=('stem', 0, 1, 2, 3)),
                  decoder=dict(decoder_channels=(32, 16, 16, 8, 8))), (1, 1, 64, 64)),
    'detector_features': (dict(type='MaskRCNN', backbone=dict(BACKBONE, norm_cfg=dict(type='BN')),
                               neck=dict(type='FPN', out_channels=16),
                               roi_head=dict(num_classes=1, fc_out_channels=32, mask_channels=(8, 8)),
                               data_preprocessor=dict(type='ImgDataPreprocessor', mean=[0.0], std=[1.0])),
                          (1, 1, 64, 96)),
}


@pytest.mark.parametrize('name', sorted(MODELS_AND_INPUTS))
def test_fold_keeps_outputs_and_removes_every_bn(name, randomise):
    cfg, shape = MODELS_AND_INPUTS[name]
    model = randomise(MODELS.build(cfg))
    x = torch.randn(shape)
    target = deploy_target(model, x)
    with torch.no_grad():
        before = target.module(x)
    pairs = fold_conv_bn(target.module, x)
    with torch.no_grad():
        after = target.module(x)
    before = before if isinstance(before, tuple) else (before,)
    after = after if isinstance(after, tuple) else (after,)
    for a, b in zip(before, after):
        assert (a - b).abs().max().item() <= 1e-5 * max(1.0, a.abs().max().item())
    assert pairs and not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in target.module.modules())


def test_fold_handles_frozen_bn(randomise):
    model = randomise(MODELS.build(dict(BACKBONE, norm_cfg=dict(type='FrozenBN'))))
    for m in model.modules():  # FrozenBN keeps its statistics as buffers: give them values too
        if isinstance(m, FrozenBatchNorm):
            m.running_var.uniform_(0.5, 2.0)
            m.weight.uniform_(0.5, 1.5)
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        before = model(x)[-1]
    assert fold_conv_bn(model, x)
    with torch.no_grad():
        assert torch.allclose(model(x)[-1], before, atol=1e-5)
    assert not any(isinstance(m, FrozenBatchNorm) for m in model.modules())


def test_fold_refuses_training_mode():
    model = MODELS.build(dict(BACKBONE, norm_eval=False)).train()
    with pytest.raises(ValueError, match='training mode; call model.eval'):
        fold_conv_bn(model, torch.randn(1, 1, 32, 32))


def test_pairs_need_the_conv_output_itself():
    # bn2 normalises relu(conv) (not the conv's own output): only (conv, bn1) may fold.
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn1, self.bn2 = nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.BatchNorm2d(4)

        def forward(self, x):
            y = self.conv(x)
            return self.bn1(y) + self.bn2(torch.relu(y))
    net = Net().eval()
    assert find_conv_bn_pairs(net, lambda m: m(torch.randn(1, 1, 8, 8))) == [('conv', 'bn1')]
    # folding conv would change bn2's input as well: the check after folding says so
    net.bn1.running_var.fill_(4.0)
    with pytest.raises(ValueError, match='changed by'):
        fold_conv_bn(net, torch.randn(1, 1, 8, 8))


def test_a_freed_conv_output_is_not_mistaken_for_a_later_tensor():
    # The conv's output is freed at once; CPython then tends to give the next tensor the same id(). That tensor
    # (not the conv's output) is what bn normalises, so nothing may fold: pairing by id alone folded IResNet's
    # stem conv into a later block's BN.
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4)

        def forward(self, x):
            shift = self.conv(x).mean()
            return self.bn(x + shift)
    net = Net().eval()
    assert all(find_conv_bn_pairs(net, lambda m: m(torch.randn(1, 4, 8, 8))) == [] for _ in range(20))


def test_an_in_place_op_between_conv_and_bn_stops_the_fold():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4)

        def forward(self, x):
            return self.bn(torch.relu_(self.conv(x)))
    assert find_conv_bn_pairs(Net().eval(), lambda m: m(torch.randn(1, 1, 8, 8))) == []


def test_face_iresnet_folds_its_conv_bn_pairs(randomise):
    # IResNet's blocks open with a BN of the block input (after the residual sum), which no conv feeds directly
    model = randomise(MODELS.build(dict(type='FaceRecognizer', num_classes=5, input_size=(16, 16),
                                        backbone=dict(type='IResNet', depth=18, in_channels=1, base_channels=8,
                                                      num_stages=2, strides=(1, 2), out_indices=(1,)),
                                        embedding=dict(embedding_dim=16)))).eval()
    x = torch.randn(2, 1, 16, 16)
    target = deploy_target(model, x)
    with torch.no_grad():
        before = target.module(x)
    pairs = fold_conv_bn(target.module, x)
    with torch.no_grad():
        assert torch.allclose(target.module(x), before, atol=1e-4)
    # the stem conv + BN, and in each of the 4 blocks conv1 + bn2, conv2 + bn3 (downsample conv + BN where there)
    assert ('model.backbone.conv1', 'model.backbone.bn1') in pairs
    assert {bn.rsplit('.', 1)[1] for _, bn in pairs if '.layer' in bn} >= {'bn2', 'bn3'}
