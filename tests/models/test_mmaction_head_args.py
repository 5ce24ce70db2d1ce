"""mmaction2's test_cfg on both recognizers: max_testing_views bounds memory without changing scores."""
import pytest
import torch

from resbackbones.registry import MODELS

RECOGNIZERS = {
    '3d': (dict(type='Recognizer3D', backbone=dict(type='ResNet3dCSN', depth=50, base_channels=8,
                                                    stage_blocks=(1, 1, 1, 1), with_pool2=False),
                cls_head=dict(type='I3DHead', num_classes=4)), (2, 5, 3, 8, 32, 32), 2),
    # TSM: 8 frames of 2 videos = 4 clips of num_segments=2 frames; views count frames, 4 at a time = 2 clips
    '2d': (dict(type='Recognizer2D', backbone=dict(type='ResNetTSM', depth=18, base_channels=8, num_segments=2),
                cls_head=dict(type='TSMHead', num_classes=4, num_segments=2)), (2, 8, 3, 32, 32), 4),
}


@pytest.mark.parametrize('kind', sorted(RECOGNIZERS))
@torch.no_grad()
def test_max_testing_views_gives_the_same_scores_in_bounded_passes(kind, randomise):
    cfg, shape, views = RECOGNIZERS[kind]
    model = randomise(MODELS.build(dict(cfg, test_cfg=dict(max_testing_views=views))))
    passes = []
    model.backbone.register_forward_hook(lambda module, args, out: passes.append(args[0].shape[0]))
    inputs = torch.rand(shape)
    chunked = model.eval()(inputs, mode='tensor')
    total = shape[0] * shape[1]
    assert passes == [views] * (total // views) + ([total % views] if total % views else [])
    model.max_testing_views, passes[:] = None, []
    torch.testing.assert_close(chunked, model(inputs, mode='tensor'), rtol=1e-5, atol=1e-5)
    assert passes == [total]
    model.max_testing_views, passes[:] = views, []
    model.train()(inputs, mode='tensor')  # training runs every view at once, as mmaction2
    assert passes == [total]


@pytest.mark.parametrize('kind, test_cfg, message', [
    ('3d', dict(max_testing_views=0), 'max_testing_views must be an integer >= 1'),
    ('3d', dict(max_testing_views='10'), 'max_testing_views must be an integer >= 1'),
    ('2d', dict(max_testing_views=3), 'a multiple of num_segments=2; got 3'),
    ('2d', dict(fcn_test=True), r"test_cfg options \['fcn_test'\] are not supported"),
])
def test_bad_test_cfg_is_named(kind, test_cfg, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(RECOGNIZERS[kind][0], test_cfg=test_cfg))


@pytest.mark.parametrize('kind, message', [
    ('3d', "neck must be mmaction2's dict\\(type='TPN'"),
    ('2d', 'a TPN neck goes with TPNHead'),  # TSNHead here; a TPN neck must be paired with TPNHead
])
def test_a_neck_other_than_tpn_is_refused_by_name(kind, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(dict(RECOGNIZERS[kind][0], neck=dict(type='FPN')))


def test_train_cfg_options_are_refused():
    with pytest.raises(ValueError, match='train_cfg options are not supported'):
        MODELS.build(dict(RECOGNIZERS['3d'][0], train_cfg=dict(blending=None)))


@pytest.mark.parametrize('value, expected', [(5, (5,)), ((1, 5), (1, 5)), ([2], (2,))])
def test_topk_takes_an_int_as_mmaction2(value, expected):
    from resbackbones.models.mmaction_head_args import topk_of
    assert topk_of('RecognizerOmni', value) == expected  # an int was a bare "'int' object is not iterable"


@pytest.mark.parametrize('value', [0, (1, 0), 'top5', True, ()])
def test_bad_topk_is_named(value):
    from resbackbones.models.mmaction_head_args import topk_of
    with pytest.raises(ValueError, match='RecognizerOmni: cls_head.topk must be an integer >= 1'):
        topk_of('RecognizerOmni', value)


@pytest.mark.parametrize('cls_head, shape', [
    (dict(type='TRNHead', num_classes=4, num_segments=2), (2, 2, 3, 32, 32)),
    (dict(type='TSNHead', num_classes=4), (2, 2, 3, 32, 32)),
    (dict(type='I3DHead', num_classes=4), (2, 3, 2, 32, 32)),
])
def test_every_head_takes_mmaction2s_base_head_arguments(cls_head, shape):
    """label_smooth_eps and topk are BaseHead's, so every mmaction2 head takes them: TRN and TSN heads were a bare
    TypeError, I3DHead refused them. The loss is smoothed as mmaction2's ((1 - eps) one-hot + eps / classes, which
    is torch's label_smoothing) and the top-k training accuracies are logged beside it."""
    kind = 'Recognizer3D' if cls_head['type'] == 'I3DHead' else 'Recognizer2D'
    backbone = dict(type='ResNet3d' if kind == 'Recognizer3D' else 'ResNet', depth=18, base_channels=8)
    model = MODELS.build(dict(type=kind, backbone=backbone, cls_head=dict(cls_head, label_smooth_eps=0.2,
                                                                            topk=(1, 3)))).eval()
    inputs, labels = torch.randn(*shape), torch.tensor([1, 3])
    losses = model.loss(inputs, [dict(gt_label=label) for label in labels])
    logits = model(inputs, mode='tensor')
    expected = torch.nn.functional.cross_entropy(logits, labels, label_smoothing=0.2)
    torch.testing.assert_close(losses['loss'], expected)
    ranked = logits.argsort(dim=1, descending=True)
    assert float(losses['top1_acc']) == (ranked[:, 0] == labels).float().mean()
    assert float(losses['top3_acc']) == (ranked[:, :3] == labels[:, None]).any(1).float().mean()
    with pytest.raises(ValueError, match=f'{kind}: cls_head.label_smooth_eps must be in'):
        MODELS.build(dict(type=kind, backbone=backbone, cls_head=dict(cls_head, label_smooth_eps=1.5)))


def test_frames_that_do_not_split_into_the_heads_segments_are_named():
    """TRN with num_segments=4 on 2 frames per video: 'the head gave 1 rows of logits for 2 videos'."""
    model = MODELS.build(dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18, base_channels=8),
                              cls_head=dict(type='TRNHead', num_classes=4, num_segments=4)))
    with pytest.raises(ValueError, match="2 frames per video do not split into clips of the head's num_segments=4"):
        model(torch.randn(2, 2, 3, 32, 32), mode='tensor')
