"""Partial FC (An et al., 2022; insightface's PartialFC_V2): margin-softmax with the class centres sharded over the
ranks and sampled per step, so millions of identities fit.

Each of the W ranks holds 1/W of the class centres (the first ``num_classes % W`` ranks one more). A step gathers
every rank's embeddings and labels, scores them against the local centres only, and computes the softmax
cross-entropy across ranks (a max, a sum and the target logits are all-reduced), so the loss equals that of the
full head. With ``sample_rate`` < 1 each rank keeps the centres of the identities in the batch plus random others
up to ``sample_rate`` of its share, and only those are scored and updated. The weights differ per rank:
FaceRecognizer tells DDP to leave them alone (``rank_local_parameters``), and gradients reaching the backbone are
multiplied by W to undo DDP's averaging, as insightface does. Checkpoints hold all W shards as one matrix, and each
rank loads its own rows of it (``engine/sharded_rows.py``), so a run resumes on any number of ranks.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ..engine.sharded_rows import own_rows
from ..registry import MODELS
from .margin import check_filter_threshold, check_labels, check_margins, margin_logits


def _world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class _GatherEmbeddings(torch.autograd.Function):
    """all_gather whose backward sums every rank's gradient for this rank's slice, times the world size."""

    @staticmethod
    def forward(ctx, local: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(local) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, local.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        dist.all_reduce(grad)
        rank, world = _world()
        return grad.chunk(world)[rank] * world


class _ShardedCrossEntropy(torch.autograd.Function):
    """Mean softmax cross-entropy of rows whose classes are spread over the ranks' columns; a label of -1 means
    the target column lives on another rank. Backward needs no communication: softmax minus one-hot, / N."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        distributed = _world()[1] > 1
        peak = logits.max(dim=1, keepdim=True).values
        if distributed:
            dist.all_reduce(peak, dist.ReduceOp.MAX)
        prob = (logits - peak).exp()
        total = prob.sum(dim=1, keepdim=True)
        if distributed:
            dist.all_reduce(total)
        prob /= total
        rows = torch.nonzero(labels >= 0).view(-1)
        target = torch.zeros(len(logits), device=logits.device, dtype=logits.dtype)
        target[rows] = logits[rows, labels[rows]]
        if distributed:
            dist.all_reduce(target)
        ctx.save_for_backward(prob, labels)
        # -log p_target as log-sum-exp minus the target logit: insightface's -log(clamp(p, 1e-30)) caps a row at
        # 69.08, which the full head's cross-entropy does not (at s=64 and initialisation the logged losses differed)
        return (total.log().view(-1) + peak.view(-1) - target).mean()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        prob, labels = ctx.saved_tensors
        grad_logits = prob.clone()
        rows = torch.nonzero(labels >= 0).view(-1)
        grad_logits[rows, labels[rows]] -= 1
        return grad_logits * (grad / len(prob)), None


@MODELS.register_module()
class PartialFCHead(nn.Module):
    """ArcFace/CosFace margin head with the class centres sharded over the ranks (PartialFC_V2).

    Args:
        embedding_dim, num_classes, scale, margins, fallback, exact_gradient, interclass_filtering_threshold: as
            MarginHead (the same rules).
        sample_rate: share of this rank's centres scored per step (1.0: all; insightface uses 0.1-0.3 for
            WebFace42M); the batch's own identities are always kept.

    Batches must have the same size on every rank (mmengine's DefaultSampler gives that). In one process it is the
    full head, sampling included. ``sampled_classes`` holds the global ids of the centres used in the last step.
    """

    rank_local_parameters = ('weight',)

    def __init__(self, embedding_dim: int, num_classes: int, scale: float = 64.0,
                 margins: tuple[float, float, float] = (1.0, 0.5, 0.0), fallback: bool = False,
                 exact_gradient: bool = False, sample_rate: float = 1.0, interclass_filtering_threshold: float = 0.0):
        super().__init__()
        self.scale, self.m2, self.m3 = check_margins(scale, margins, num_classes)
        self.filter_threshold = check_filter_threshold(interclass_filtering_threshold)
        if not 0 < sample_rate <= 1:
            raise ValueError(f'PartialFCHead: sample_rate must be in (0, 1]; got {sample_rate}')
        self.fallback, self.exact_gradient, self.sample_rate = bool(fallback), bool(exact_gradient), float(sample_rate)
        self.rank, self.world = _world()
        self.num_classes = num_classes
        self.num_local = num_classes // self.world + int(self.rank < num_classes % self.world)
        self.class_start = num_classes // self.world * self.rank + min(self.rank, num_classes % self.world)
        if self.num_local < 1:
            raise ValueError(f'PartialFCHead: {num_classes} classes cannot be sharded over {self.world} ranks')
        self.weight = nn.Parameter(torch.empty(self.num_local, embedding_dim).normal_(0, 0.01))
        self.sampled_classes: torch.Tensor | None = None

    def shard_rows(self) -> tuple[int, int, int]:
        """(first class, classes, all classes) of this rank's shard of the centres."""
        return self.class_start, self.num_local, self.num_classes

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        key = prefix + 'weight'
        if key in state_dict:  # the checkpoint holds every class centre: keep this rank's
            state_dict[key] = own_rows(state_dict[key], key, *self.shard_rows())
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Scaled cosines (N, num_local) against this rank's centres (no margin; training uses ``loss``)."""
        return F.linear(F.normalize(embeddings), F.normalize(self.weight)).clamp(-1, 1) * self.scale

    def _gather(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.world == 1:
            return embeddings, labels
        sizes = [torch.zeros(1, dtype=torch.long, device=labels.device) for _ in range(self.world)]
        dist.all_gather(sizes, torch.tensor([len(labels)], device=labels.device))
        if len({int(s) for s in sizes}) > 1:
            raise ValueError(f'PartialFCHead: batch sizes differ between ranks ({[int(s) for s in sizes]}); use '
                             f'equal per-rank batches (DefaultSampler, drop_last or round_up)')
        all_labels = [torch.empty_like(labels) for _ in range(self.world)]
        dist.all_gather(all_labels, labels.contiguous())
        return _GatherEmbeddings.apply(embeddings), torch.cat(all_labels)

    def loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the margin logits over all ranks' batches and all (sampled) centres."""
        check_labels(labels, self.num_classes, len(embeddings))
        embeddings, labels = self._gather(embeddings, labels)
        local = labels - self.class_start
        local[(local < 0) | (local >= self.num_local)] = -1
        weight = self.weight
        index = torch.arange(self.num_local, device=labels.device)
        if self.sample_rate < 1:
            with torch.no_grad():
                positive = torch.unique(local[local >= 0])
                num_sample = max(int(self.sample_rate * self.num_local), len(positive))
                score = torch.rand(self.num_local, device=labels.device)
                score[positive] = 2.0  # the batch's identities first
                index = score.topk(num_sample).indices.sort().values
                local = torch.where(local >= 0, torch.searchsorted(index, local.clamp_min(0)), local)
            weight = self.weight[index]
        self.sampled_classes = index + self.class_start
        cos = F.linear(F.normalize(embeddings), F.normalize(weight)).clamp(-1, 1)
        logits = margin_logits(cos, local, self.scale, self.m2, self.m3, self.fallback, self.exact_gradient,
                               self.filter_threshold)
        return _ShardedCrossEntropy.apply(logits, local)
