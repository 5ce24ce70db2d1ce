"""RecognizerOmni: image and video sources in one step, each on its own classifier, mmaction2's loss names."""
import pytest
import torch
import torch.nn.functional as F

from resbackbones.registry import MODELS
from resbackbones.weights import load_pretrained

HEAD = dict(type='OmniHead', image_classes=5, video_classes=3, average_clips='prob')
TINY = dict(type='RecognizerOmni', backbone=dict(type='OmniResNet', layers=(1, 1, 1, 1), base_channels=8),
            cls_head=HEAD,
            data_preprocessor=dict(type='ActionDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3,
                                   format_shape='MIX2d3d'))


def tiny(randomise, **changes):
    return randomise(MODELS.build({**TINY, **changes}))


def sources():
    """A video batch (2 samples x 1 view) and an image batch (3), as the preprocessor hands them on."""
    videos = dict(inputs=torch.randn(2, 1, 3, 4, 32, 32), data_samples=[dict(gt_label=2), dict(gt_label=0)])
    images = dict(inputs=torch.randn(3, 3, 32, 32), data_samples=[dict(gt_label=4), dict(gt_label=1),
                                                                   dict(gt_label=3)])
    return videos, images


@torch.no_grad()
def test_each_source_is_scored_on_its_own_classifier(randomise):
    model = tiny(randomise)
    videos, images = sources()
    losses = model(videos, images, mode='loss')
    assert set(losses) == {'loss_cls_0', 'top1_acc_0', 'top5_acc_0', 'loss_cls_1', 'top1_acc_1', 'top5_acc_1'}
    video_logits = model.cls_head(model.backbone(videos['inputs'][:, 0])[-1])
    image_logits = model.cls_head(model.backbone(images['inputs'])[-1])
    assert video_logits.shape == (2, 3) and image_logits.shape == (3, 5)
    torch.testing.assert_close(losses['loss_cls_0'], F.cross_entropy(video_logits, torch.tensor([2, 0])))
    torch.testing.assert_close(losses['loss_cls_1'], F.cross_entropy(image_logits, torch.tensor([4, 1, 3])))
    hits = (image_logits.argmax(dim=1) == torch.tensor([4, 1, 3])).float().mean()
    torch.testing.assert_close(losses['top1_acc_1'], hits)
    assert losses['top5_acc_0'] == 1.0  # every class of three is in a top 5


@torch.no_grad()
def test_views_are_averaged_per_video_as_average_clips_says(randomise):
    model = tiny(randomise)
    videos = torch.randn(2, 3, 3, 4, 32, 32)  # 2 videos x 3 views
    per_view = torch.stack([model(videos[:, v]) for v in range(3)], dim=1)
    torch.testing.assert_close(model(videos), per_view.mean(dim=1))
    scores = torch.stack([p['pred_score'] for p in model(videos, [1, 2], mode='predict')])
    torch.testing.assert_close(scores, per_view.softmax(dim=2).mean(dim=1))
    assert [p['gt_label'] for p in model(videos, [1, 2], mode='predict')] == [1, 2]


def test_the_preprocessor_and_the_model_run_a_tuple_of_sources(randomise):
    model = tiny(randomise).train()
    raw = ({'inputs': [torch.randint(0, 255, (1, 3, 4, 32, 32), dtype=torch.uint8)] * 2,
            'data_samples': [dict(gt_label=1), dict(gt_label=2)]},
           {'inputs': [torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)] * 2,
            'data_samples': [dict(gt_label=0), dict(gt_label=4)]})
    processed = model.data_preprocessor(raw, True)
    assert isinstance(processed, tuple) and processed[1]['inputs'].shape == (2, 3, 32, 32)
    torch.testing.assert_close(processed[1]['inputs'][0, :, 0, 0], (raw[1]['inputs'][0][:, 0, 0].float() - 128) / 64)
    losses = model._run_forward(processed, mode='loss')
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert model.cls_head.fc2d[4].weight.grad.abs().sum() > 0 and model.cls_head.fc3d[6].weight.grad.abs().sum() > 0


def test_mmaction2_checkpoints_load_key_for_key(tmp_path, randomise):
    theirs = tiny(randomise)
    state = {k: v for k, v in theirs.state_dict().items()}  # mmaction2's names are the model's own
    path = tmp_path / 'omni.pth'
    torch.save(dict(state_dict=state, meta=dict(mmaction2_version='1.2.0')), path)
    ours = MODELS.build(TINY)
    report = load_pretrained(ours, path, strict=True)
    assert not report.missing and not report.unexpected and not report.ignored
    for key, value in ours.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0, msg=key)


@pytest.mark.parametrize('changes, match', [
    (dict(cls_head=dict(type='I3DHead', num_classes=3)), "cls_head must be dict\\(type='OmniHead'"),
    (dict(cls_head={**HEAD, 'in_channels': 64}), 'in_channels=64 but the backbone'),
    (dict(cls_head={**HEAD, 'loss_cls': dict(type='BCELossWithLogits')}), 'loss_cls must be'),
    (dict(cls_head={**HEAD, 'num_segments': 3}), "cls_head: .*'num_segments'"),
])
def test_bad_heads_are_named(changes, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build({**TINY, **changes})


def test_bad_batches_are_named(randomise):
    model = tiny(randomise)
    videos, images = sources()
    with pytest.raises(ValueError, match="batches from 2 sources are for mode='loss'"):
        model(videos, images, mode='predict')
    images['data_samples'][0] = dict(gt_label=5, img_path='imagenet/n01/x.jpg')
    with pytest.raises(ValueError, match=r'source 1 \(images\): imagenet/n01/x.jpg has label 5, not a class in '
                                         r'\[0, 5\)'):
        model(videos, images, mode='loss')
    with pytest.raises(ValueError, match='got shape \\(3, 32, 32\\)'):
        model(torch.randn(3, 32, 32))
