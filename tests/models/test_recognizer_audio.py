"""RecognizerAudio: each spectrogram clip is scored alone and a video's clips are averaged; only TSNAudioHead."""
import pytest
import torch

from resbackbones.registry import MODELS

BACKBONE = dict(type='ResNet', depth=18, in_channels=1, base_channels=8)


def test_clips_are_scored_alone_and_averaged_per_video():
    model = MODELS.build(dict(type='RecognizerAudio', backbone=BACKBONE,
                              cls_head=dict(type='TSNAudioHead', num_classes=3, average_clips='score'))).eval()
    clips = torch.rand(2, 3, 1, 32, 16)
    with torch.no_grad():
        each = torch.stack([model.tensor(clips[:, k:k + 1]) for k in range(3)], 1)  # one clip at a time
        together = model.tensor(clips)
    torch.testing.assert_close(together, each.mean(1))
    assert model.head.fc.in_features == 64  # from the backbone's declared last feature


def test_other_heads_are_refused():
    with pytest.raises(ValueError, match="cls_head must be dict\\(type='TSNAudioHead'"):
        MODELS.build(dict(type='RecognizerAudio', backbone=BACKBONE, cls_head=dict(type='TSNHead', num_classes=3)))
