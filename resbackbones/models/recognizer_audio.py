"""mmaction2's ``RecognizerAudio``: a 2D ResNet over spectrogram clips, scored per clip and averaged per video.

The input is (N, clips, 1, time, frequency) (``FormatAudioShape('NCTF')``): each clip is a one-channel image for
the backbone (mmaction2's audio config: ResNet-18 with ``in_channels=1``), which is Recognizer2D's (N, frames, C,
H, W) with clips in place of frames and ``TSNAudioHead`` scoring every clip. No new network: the core's 2D ResNet.
"""
from __future__ import annotations

from torch import nn

from ..registry import MODELS
from .recognizer2d import Recognizer2D


@MODELS.register_module()
class RecognizerAudio(Recognizer2D):
    """Audio recognizer with mmaction2's arguments.

    Args:
        backbone: a 2D backbone config, e.g. ``dict(type='ResNet', depth=18, in_channels=1, norm_eval=False)``.
        cls_head: ``dict(type='TSNAudioHead', num_classes, dropout_ratio, init_std, average_clips)``; in_channels
            comes from the backbone. data_preprocessor: default stacks and casts (mmaction2's; features are not
            normalised). train_cfg / test_cfg: as Recognizer2D's.
    """

    def __init__(self, backbone: dict | nn.Module, cls_head: dict, data_preprocessor: dict | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None, init_cfg: dict | None = None):
        if not isinstance(cls_head, dict) or cls_head.get('type') != 'TSNAudioHead':
            raise ValueError(f"RecognizerAudio: cls_head must be dict(type='TSNAudioHead', num_classes=...) "
                             f'(mmaction2); got {cls_head!r}')
        super().__init__(backbone, cls_head, data_preprocessor=data_preprocessor, train_cfg=train_cfg,
                         test_cfg=test_cfg, init_cfg=init_cfg)
