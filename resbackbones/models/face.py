"""Face recognition: backbone -> embedding head -> margin head (training) / normalised embedding (inference)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..apis.sliding_window import window_sizes
from ..registry import MODELS
from .base import TaskModel
from .labels import gt_labels, with_labels


def face_size(input_size) -> tuple[int, int]:
    """``input_size`` as (H, W): an int is a square; ValueError otherwise (a bad size built a 0-wide embedding FC or
    failed at the first forward)."""
    try:
        return window_sizes(input_size, 'input_size', 2)
    except ValueError:
        raise ValueError(f'FaceRecognizer: input_size must be (H, W) of positive ints (or one int for a square), '
                         f'the size of the aligned crops; got {input_size!r}') from None


@MODELS.register_module()
class FaceRecognizer(TaskModel):
    """ArcFace-style recognizer. The embedding head is sized from the backbone's last feature spec and
    ``input_size``, the margin head from the embedding width; configs type neither.

    Args:
        backbone: config or module with ``feature_specs`` (IResNet for insightface's models).
        num_classes: identities in training. input_size: (H, W) of the aligned face crops (112, 112).
        embedding: FaceEmbeddingHead options (embedding_dim, dropout).
        margin_head: e.g. ``dict(type='ArcFaceHead', scale=64.0, margin=0.5)``, ``dict(type='CosFaceHead')``,
            ``dict(type='PartialFCHead', ...)`` (class centres sharded over the ranks) or ``dict(type='SoftmaxHead')``.
        flip_test: in 'predict', embed each image and its horizontal mirror and sum the two before normalising
            (insightface's verification does this; 'tensor' mode never flips).

    Modes: 'tensor' -> embeddings (N, D); 'loss' -> {'loss': cross-entropy of the margin logits};
    'predict' -> one dict per sample with 'embedding' (L2-normalised) and 'gt_label' when labels were given.
    """

    def __init__(self, backbone: dict | nn.Module, num_classes: int, input_size: tuple[int, int] = (112, 112),
                 embedding: dict | None = None, margin_head: dict | None = None,
                 flip_test: bool = False, data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        spec = self.backbone.feature_specs[-1]
        self.input_size, self.flip_test, self.num_classes = face_size(input_size), bool(flip_test), num_classes
        self.embedding = MODELS.build(dict(type='FaceEmbeddingHead', in_channels=spec.channels,
                                           feature_size=tuple(spec.output_size(s) for s in self.input_size),
                                           **(embedding or {})))
        self.margin_head = MODELS.build({'type': 'ArcFaceHead', **(margin_head or {}),
                                         'embedding_dim': self.embedding.fc.out_features, 'num_classes': num_classes})
        # A sharded head's weights differ per rank: DDP must neither broadcast nor average them.
        self._ddp_params_and_buffers_to_ignore = [f'margin_head.{name}' for name in
                                                  getattr(self.margin_head, 'rank_local_parameters', ())]

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Face embeddings (N, D), not normalised (insightface's output)."""
        return self.embedding(self.backbone(inputs)[-1])

    def tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.extract_feat(inputs)

    def loss(self, inputs: torch.Tensor, data_samples) -> dict[str, torch.Tensor]:
        embeddings = self.extract_feat(inputs)
        # checked here, where the batch still says whose label it is (the margin head sees numbers only)
        labels = gt_labels(data_samples, embeddings.device, self.num_classes, 'FaceRecognizer')
        return {'loss': self.margin_head.loss(embeddings, labels)}

    def predict(self, inputs: torch.Tensor, data_samples=None) -> list[dict]:
        # through tensor(), the part tools/deploy.py replaces by a backend
        embeddings = self.tensor(inputs)
        if self.flip_test:
            embeddings = embeddings + self.tensor(inputs.flip(-1))
        preds = [{'embedding': e.detach()} for e in F.normalize(embeddings)]
        pairs = pair_tags(data_samples, len(preds))
        if pairs is not None:  # a verification set: its pair tags, no identity labels
            return [dict(pred, **tags) for pred, tags in zip(preds, pairs)]
        # identity labels where the samples carry them; with neither (a pipeline that dropped the pair tags) the
        # embeddings alone, and the evaluator names what is missing
        return with_labels(preds, data_samples, embeddings.device)


PAIR_KEYS = ('pair_index', 'pair_side', 'is_same')
SET_KEY = 'verification_set'  # present when the dataset holds several .bin sets, scored apart


def pair_tags(data_samples, count: int) -> list[dict] | None:
    """Per-sample {'pair_index', 'pair_side', 'is_same'} (and 'verification_set' where given) from a verification
    batch (list of dicts or mmengine's collated dict of lists), or None when the batch is not of pairs."""
    if isinstance(data_samples, dict) and 'pair_index' in data_samples:
        keys = PAIR_KEYS + ((SET_KEY,) if SET_KEY in data_samples else ())
        return [{k: _scalar(data_samples[k][i]) for k in keys} for i in range(count)]
    if isinstance(data_samples, (list, tuple)) and data_samples and isinstance(data_samples[0], dict) \
            and 'pair_index' in data_samples[0]:
        return [{k: _scalar(s[k]) for k in PAIR_KEYS + ((SET_KEY,) if SET_KEY in s else ())} for s in data_samples]
    return None


def _scalar(value):
    return value.item() if isinstance(value, torch.Tensor) else value
