"""What mmaction2's two-pathway backbones (SlowFast, PoseC3D's RGB + pose) share around their pathways.

Both take a whole checkpoint as ``pretrained`` (or mmengine's 'Pretrained' init_cfg) for both pathways at once,
else let each pathway initialise itself (from its own ``pretrained``, if its dict gives one), and describe
themselves as their pathways' tables plus the laterals between them.
"""
from __future__ import annotations

from mmengine.model import BaseModule

from .slowfast_pathway import ResNet3dPathway


class TwoPathwayBackbone(BaseModule):
    """Base of a backbone made of ResNet3dPathways named in ``pathway_names``.

    Args:
        owner: the class name for errors. pretrained: a checkpoint of the whole backbone (mmaction2's argument).
        init_cfg: mmengine's; ``dict(type='Pretrained', checkpoint=...)`` as ``pretrained``.
    """

    pathway_names: tuple[str, ...] = ()

    def __init__(self, owner: str, pretrained: str | None, init_cfg: dict | None):
        if pretrained is not None:
            if init_cfg is not None:
                raise ValueError(f'{owner}: give either pretrained or init_cfg, not both')
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        super().__init__(init_cfg=init_cfg)

    @staticmethod
    def lateral_summary(path: ResNet3dPathway, source: str) -> str:
        """One line on the laterals into ``path``: how many, which kind, trainable / all parameters."""
        modules = [m for name, m in path.named_children() if name.endswith('_lateral')]
        trainable = sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)
        total = sum(p.numel() for m in modules for p in m.parameters())
        kind = ', inverse (transposed conv)' if path.lateral_inv else ''
        return f'laterals {source}: {len(modules)}{kind}, {trainable:,} of {total:,} params trainable'

    def init_weights(self) -> None:
        """mmengine entry point: a 'Pretrained' init_cfg (a dict, or one entry of a list) loads through our
        converters with all its keys (strict, prefix, source), else each pathway initialises itself."""
        from ..weights.init_cfg import init_with_pretrained, split_init_cfg
        pretrained, others = split_init_cfg(self.init_cfg)
        if pretrained is not None:
            init_with_pretrained(self, pretrained, others)
        else:
            for name in self.pathway_names:
                getattr(self, name).init_weights()
        self._is_init = True
