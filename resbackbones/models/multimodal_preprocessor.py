"""mmaction2's ``MultiModalDataPreprocessor``: one data preprocessor per modality of a multi-input batch.

PoseC3D's RGB + pose batches hold uint8 frames, normalised by ImageNet statistics, and float heatmaps, only cast;
each modality of ``inputs`` (a dict from ``PackActionInputs(collect_keys=...)``) goes through its own
``ActionDataPreprocessor`` on the device.
"""
from __future__ import annotations

from mmengine.model import BaseDataPreprocessor, ModuleDict

from ..registry import MODELS


@MODELS.register_module()
class MultiModalDataPreprocessor(BaseDataPreprocessor):
    """``dict(inputs=dict(modality=batch), data_samples=...)`` -> each modality through its own preprocessor.

    Args:
        preprocessors: dict(modality=preprocessor config), e.g. ``imgs=dict(type='ActionDataPreprocessor',
            mean=..., std=..., format_shape='NCTHW'), heatmap_imgs=dict(type='ActionDataPreprocessor')``.
    """

    def __init__(self, preprocessors: dict[str, dict]):
        super().__init__()
        if not isinstance(preprocessors, dict) or not preprocessors:
            raise ValueError(f'MultiModalDataPreprocessor: preprocessors must be dict(modality=config, ...); got '
                             f'{preprocessors!r}')
        untyped = [name for name, cfg in preprocessors.items() if not isinstance(cfg, dict) or 'type' not in cfg]
        if untyped:
            raise ValueError(f"MultiModalDataPreprocessor: preprocessors {untyped} need a config dict with a 'type'")
        self.preprocessors = ModuleDict({name: MODELS.build(cfg) for name, cfg in preprocessors.items()})

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data.get('inputs') if isinstance(data, dict) else None
        if not isinstance(inputs, dict):
            raise ValueError('MultiModalDataPreprocessor needs inputs as dict(modality=batch) (PackActionInputs('
                             f'collect_keys=...)); got {type(inputs).__name__}')
        unknown = sorted(set(inputs) - set(self.preprocessors))
        if unknown:
            raise ValueError(f'MultiModalDataPreprocessor: the batch has modalities {unknown} without a preprocessor '
                             f'(it has {sorted(self.preprocessors)})')
        out = {name: self.preprocessors[name](dict(inputs=batch), training)['inputs'] for name, batch in inputs.items()}
        return dict(inputs=out, data_samples=data.get('data_samples'))
