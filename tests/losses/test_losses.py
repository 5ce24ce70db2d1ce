import pytest
import torch

from resbackbones.losses import CrossEntropyLoss, DiceLoss, soft_dice
from resbackbones.registry import MODELS


def perfect_logits(target, num_classes, scale=20.0):
    return torch.nn.functional.one_hot(target, num_classes).permute(0, 3, 1, 2).float() * 2 * scale - scale


@pytest.mark.parametrize('num_classes', [2, 4])
def test_dice_near_zero_when_perfect_and_high_when_wrong(num_classes):
    target = torch.randint(0, num_classes, (2, 16, 16))
    loss = DiceLoss(smooth=0.0)
    assert loss(perfect_logits(target, num_classes), target) < 1e-3
    wrong = perfect_logits((target + 1) % num_classes, num_classes)
    assert loss(wrong, target) > 0.99


def test_soft_dice_value_by_hand():
    probs = torch.tensor([[[[1.0, 1.0], [0.0, 0.0]]]])  # predicts the top row
    one_hot = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])  # truth: one pixel
    dice = soft_dice(probs, one_hot, torch.ones(1, 1, 2, 2), smooth=0.0)
    assert dice.item() == pytest.approx(2 * 1 / (2 + 1))


def test_binary_dice_uses_foreground_only():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[:, 2:6, 2:6] = 1
    logits = torch.where(target.bool(), 20.0, -20.0).float().unsqueeze(1)
    assert DiceLoss(smooth=0.0)(logits, target) < 1e-3
    assert DiceLoss(smooth=0.0)(-logits, target) > 0.99


@pytest.mark.parametrize('loss', [DiceLoss(), CrossEntropyLoss()])
@pytest.mark.parametrize('channels', [1, 3])
def test_ignored_pixels_do_not_count(loss, channels):
    num = 2 if channels == 1 else channels
    target = torch.randint(0, num, (2, 8, 8))
    logits = perfect_logits(target, num)[:, 1:] if channels == 1 else perfect_logits(target, num)
    base = loss(logits, target)
    corrupted, ignored = logits.clone(), target.clone()
    corrupted[:, :, :4] = -corrupted[:, :, :4]  # wrong predictions in the top half ...
    ignored[:, :4] = 255  # ... which is ignored
    assert loss(corrupted, ignored) == pytest.approx(float(base), abs=1e-4)
    assert loss(corrupted, target) > base + 0.1


def test_cross_entropy_matches_torch_and_weights_scale():
    logits, target = torch.randn(2, 3, 8, 8), torch.randint(0, 3, (2, 8, 8))
    expected = torch.nn.functional.cross_entropy(logits, target)
    assert CrossEntropyLoss()(logits, target) == pytest.approx(float(expected), rel=1e-5)
    assert CrossEntropyLoss(weight=0.5)(logits, target) == pytest.approx(float(expected) / 2, rel=1e-5)


def test_bce_for_one_channel_matches_torch():
    logits, target = torch.randn(2, 1, 8, 8), torch.randint(0, 2, (2, 8, 8))
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], target.float())
    assert CrossEntropyLoss()(logits, target) == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize('loss', [CrossEntropyLoss(), DiceLoss(smooth=0.0), DiceLoss(smooth=0.0, per_image=True)])
def test_all_ignored_gives_zero_with_gradient(loss):
    logits = torch.randn(1, 3, 4, 4, requires_grad=True)
    value = loss(logits, torch.full((1, 4, 4), 255))  # Dice with smooth 0: NaN
    value.backward()
    assert value.item() == 0 and logits.grad is not None


@pytest.mark.parametrize('smooth', [0.0, 1.0])
def test_per_image_dice_leaves_out_wholly_ignored_images(smooth):
    # the ignored image scored Dice 1 per class (smooth 1), halving the loss of a two-image batch, or NaN (smooth 0)
    logits, target = torch.randn(2, 3, 4, 4), torch.randint(0, 3, (2, 4, 4))
    target[1] = 255
    loss = DiceLoss(smooth=smooth, per_image=True)
    assert loss(logits, target).item() == pytest.approx(loss(logits[:1], target[:1]).item(), rel=1e-6)


def test_smooth_zero_scores_an_absent_class_zero_not_nan():
    probs = torch.zeros(1, 2, 2, 2)
    probs[:, 0] = 1  # class 1 neither predicted nor labelled
    one_hot = probs.clone()
    dice = soft_dice(probs, one_hot, torch.ones(1, 1, 2, 2), smooth=0.0)
    assert dice.tolist() == [1.0, 0.0]


@pytest.mark.parametrize('loss', [DiceLoss(), CrossEntropyLoss()])
def test_labels_beyond_classes_are_an_error(loss):
    with pytest.raises(ValueError, match=r'target labels must be in \[0, 3\)'):
        loss(torch.randn(1, 3, 4, 4), torch.full((1, 4, 4), 5))


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match='same N, H, W'):
        DiceLoss()(torch.randn(1, 3, 4, 4), torch.zeros(1, 5, 5, dtype=torch.long))


def test_registered_with_loss_names():
    losses = [MODELS.build(dict(type='DiceLoss', loss_name='loss_d2')), MODELS.build(dict(type='CrossEntropyLoss'))]
    assert [m.loss_name for m in losses] == ['loss_d2', 'loss_ce']
    with pytest.raises(ValueError, match="must contain 'loss'"):
        DiceLoss(loss_name='dice')


@pytest.mark.parametrize('loss', [DiceLoss(), CrossEntropyLoss()])
def test_volumes_give_the_loss_of_their_slices_stacked(loss):
    """A (N, C, D, H, W) volume is scored like its D slices laid side by side (both losses pool all voxels)."""
    logits, target = torch.randn(2, 3, 4, 5, 6), torch.randint(0, 3, (2, 4, 5, 6))
    flat_logits = logits.permute(0, 1, 3, 2, 4).reshape(2, 3, 5, 24)
    flat_target = target.permute(0, 2, 1, 3).reshape(2, 5, 24)
    torch.testing.assert_close(loss(logits, target), loss(flat_logits, flat_target))


@pytest.mark.parametrize('include_background', [True, False])
def test_a_class_weight_of_the_wrong_length_names_the_counts_given(include_background):
    # with include_background=False the message counted the weights after dropping background: 'needs 4; got 4'
    loss = DiceLoss(class_weight=[1, 2, 3, 4, 5], include_background=include_background)
    with pytest.raises(ValueError, match=r'class_weight needs 4 entries, one per class with the background .*got 5'):
        loss(torch.randn(1, 4, 6, 6), torch.randint(0, 4, (1, 6, 6)))
