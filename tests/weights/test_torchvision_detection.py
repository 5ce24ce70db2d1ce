"""torchvision detection checkpoints load into our FasterRCNN / MaskRCNN and give the same detections.

The parity tests save torchvision's model with random weights in its own format (torch.save(state_dict())), load
the file through our converter and compare boxes, scores, labels and mask probabilities on the same image. Both get
the same normalised tensor at a size torchvision's transform keeps (min_size = the image's short side); our
preprocessing is compared with torchvision's separately.
"""
from __future__ import annotations

import pytest
import torch
import torchvision
from torchvision.models.detection import MaskRCNN, fasterrcnn_resnet50_fpn, maskrcnn_resnet50_fpn
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops.misc import FrozenBatchNorm2d

from resbackbones.registry import MODELS
from resbackbones.weights.torchvision_detection import convert_torchvision_detection, load_torchvision_detection

H, W = 160, 192
TV_TEST = dict(min_size=H, max_size=1333, rpn_pre_nms_top_n_test=200, rpn_post_nms_top_n_test=100,
               box_score_thresh=0.0, box_detections_per_img=20)


def ours_for(kind: str, depth: int, norm: str, num_classes: int = 90) -> torch.nn.Module:
    """Our detector pooling with torchvision's RoIAlign kernel: these tests check the weights and the network, at
    1e-4 on box coordinates; the CPU default (roi_align_rows, its own float64 tests) rounds in another order, which
    a random-weight R50 amplifies to ~1e-5 relative."""
    return MODELS.build(dict(
        type=kind, backbone=dict(type='ResNet', depth=depth, norm_cfg=dict(type=norm)), neck=dict(type='FPN'),
        roi_head=dict(num_classes=num_classes, roi_align_impl='torchvision'),
        test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100),
                      rcnn=dict(score_thr=0.0, max_per_img=20, mask_thr_binary=None)))).eval()


def randomise_norms(model: torch.nn.Module) -> None:
    """Non-trivial batch-norm statistics, so that a wrong norm mapping would show."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, FrozenBatchNorm2d)):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)


def compare(tv: torch.nn.Module, ours: torch.nn.Module, tmp_path) -> int:
    """Save tv, load the file into ours, run both on one image; returns the number of detections compared."""
    randomise_norms(tv)
    path = tmp_path / 'tv.pth'
    torch.save(tv.state_dict(), path)
    assert load_torchvision_detection(ours, path) == dict(missing=[], unexpected=[])
    image = torch.rand(3, H, W)
    tv.eval().transform.image_mean, tv.transform.image_std = [0.0] * 3, [1.0] * 3  # both get the same tensor
    x = GeneralizedRCNNTransform(H, 1333, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).normalize(image)
    with torch.no_grad():
        expected = tv([x])[0]
        got = ours.predict(x[None])[0].pred_instances
    assert len(got) == len(expected['boxes']) > 0
    torch.testing.assert_close(got.bboxes, expected['boxes'], atol=1e-4, rtol=0)
    torch.testing.assert_close(got.scores, expected['scores'], atol=1e-4, rtol=0)
    assert torch.equal(got.labels + 1, expected['labels'])
    if 'masks' in expected:
        torch.testing.assert_close(got.masks, expected['masks'][:, 0], atol=1e-4, rtol=0)
    return len(got)


@pytest.mark.parametrize('norm', ['BN', 'FrozenBN'])
def test_resnet18_fpn_maskrcnn_parity(tmp_path, norm):
    """torchvision's own R18-FPN Mask R-CNN (BatchNorm, or FrozenBatchNorm as with pretrained backbones)."""
    layer = torch.nn.BatchNorm2d if norm == 'BN' else FrozenBatchNorm2d
    tv = MaskRCNN(resnet_fpn_backbone(backbone_name='resnet18', weights=None, norm_layer=layer, trainable_layers=5),
                  num_classes=5, **TV_TEST)
    compare(tv, ours_for('MaskRCNN', 18, norm, num_classes=4), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize('builder, kind', [(fasterrcnn_resnet50_fpn, 'FasterRCNN'),
                                           (maskrcnn_resnet50_fpn, 'MaskRCNN')])
def test_torchvision_r50_fpn_builders_parity(tmp_path, builder, kind):
    """The issue's check: fasterrcnn/maskrcnn_resnet50_fpn(weights=None, weights_backbone=None), 91 outputs."""
    tv = builder(weights=None, weights_backbone=None, **TV_TEST)
    compare(tv, ours_for(kind, 50, 'BN'), tmp_path)


def test_our_preprocessing_matches_torchvision_transform():
    ours = ours_for('FasterRCNN', 18, 'FrozenBN')
    image = (torch.rand(3, H, W) * 255).round().to(torch.uint8)
    ours_x = ours.data_preprocessor({'inputs': [image], 'data_samples': None}, False)['inputs']
    tv_x = GeneralizedRCNNTransform(H, 1333, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])([image.float() / 255])[0]
    assert ours_x.shape == tv_x.tensors.shape == (1, 3, H, W)  # 160 x 192: already a multiple of 32
    torch.testing.assert_close(ours_x, tv_x.tensors, atol=1e-5, rtol=0)


def test_old_torchvision_key_names_are_renamed():
    old = {'backbone.body.conv1.weight': 0, 'backbone.fpn.inner_blocks.0.weight': 1,
           'backbone.fpn.layer_blocks.3.bias': 2, 'rpn.head.conv.weight': 3, 'roi_heads.mask_head.mask_fcn1.weight': 4,
           'roi_heads.mask_head.mask_fcn4.bias': 5, 'backbone.fpn.inner_blocks.1.0.bias': 6}
    new = convert_torchvision_detection({k: torch.tensor(v) for k, v in old.items()})
    assert {k: int(v) for k, v in new.items()} == {
        'backbone.conv1.weight': 0, 'neck.lateral_convs.0.weight': 1, 'neck.fpn_convs.3.bias': 2,
        'rpn.head.conv.0.0.weight': 3, 'roi_heads.mask_head.0.0.weight': 4, 'roi_heads.mask_head.3.0.bias': 5,
        'neck.lateral_convs.1.bias': 6}


def test_class_ids_select_predictor_rows_background_first():
    state = {'roi_heads.box_predictor.cls_score.weight': torch.arange(91.)[:, None],
             'roi_heads.box_predictor.bbox_pred.bias': torch.arange(91 * 4.),
             'roi_heads.mask_predictor.mask_fcn_logits.bias': torch.arange(91.)}
    new = convert_torchvision_detection(state, class_ids=[1, 3, 90])
    assert new['roi_heads.box_predictor.cls_score.weight'][:, 0].tolist() == [0, 1, 3, 90]
    assert new['roi_heads.box_predictor.bbox_pred.bias'].tolist()[4:8] == [4, 5, 6, 7]
    assert new['roi_heads.mask_predictor.mask_fcn_logits.bias'].tolist() == [0, 1, 3, 90]
    with pytest.raises(ValueError, match='id 91 is past the 91 classes'):
        convert_torchvision_detection(state, class_ids=[91])
    for ids in ([0, 1, 2], [-1]):  # 0-based ids took the background row; -1 wrapped round to the last class
        with pytest.raises(ValueError, match=r'class_ids are 1-based category ids \(row 0 is the background\)'):
            convert_torchvision_detection(state, class_ids=ids)


def test_shape_mismatch_leaves_the_model_unchanged():
    ours = ours_for('FasterRCNN', 18, 'FrozenBN', num_classes=4)
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    tv = torchvision.models.detection.FasterRCNN(resnet_fpn_backbone(backbone_name='resnet18', weights=None),
                                                 num_classes=91)
    with pytest.raises(ValueError, match='cls_score.weight: checkpoint \\(91, 1024\\) vs model \\(5, 1024\\)'):
        load_torchvision_detection(ours, tv.state_dict())
    assert all(torch.equal(before[k], v) for k, v in ours.state_dict().items())
    # fine-tuning (a training run's load_from): the predictor of 91 classes keeps its initialisation, the rest loads
    outcome = load_torchvision_detection(ours, tv.state_dict(), strict=False)
    assert sorted(outcome['mismatched']) == ['roi_heads.box_predictor.bbox_pred.bias',
                                             'roi_heads.box_predictor.bbox_pred.weight',
                                             'roi_heads.box_predictor.cls_score.bias',
                                             'roi_heads.box_predictor.cls_score.weight']
    after = ours.state_dict()
    assert torch.equal(after['roi_heads.box_predictor.cls_score.weight'],
                       before['roi_heads.box_predictor.cls_score.weight'])
    torch.testing.assert_close(after['roi_heads.box_head.fc6.weight'], tv.state_dict()['roi_heads.box_head.fc6.weight'])
    deeper = torchvision.models.detection.FasterRCNN(resnet_fpn_backbone(backbone_name='resnet34', weights=None),
                                                     num_classes=91)
    with pytest.raises(ValueError, match=r"backbone tensors have no place in the model \(\['backbone.layer1.2"):
        load_torchvision_detection(ours, deeper.state_dict(), strict=False)  # the backbone must fit, strict or not
