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
    assert pairs and not any(isinstance(m, nn.BatchNorm2d) for m in target.module.modules())


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
