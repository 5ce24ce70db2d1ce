"""LoadReport: what a pretrained load did, key by key, readable as text."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

Shape = tuple[int, ...]
SHOWN = 5  # keys listed per group in the text; the rest are counted


def _listed(keys: list[str]) -> str:
    more = f' ... (+{len(keys) - SHOWN} more)' if len(keys) > SHOWN else ''
    return ', '.join(keys[:SHOWN]) + more


@dataclass
class LoadReport:
    """Outcome of ``load_pretrained``.

    Attributes:
        checkpoint: the file read ('<state dict>' for a dict). source: the format used, and ``evidence`` why.
        loaded: number of tensors copied into the model.
        missing: model keys the checkpoint did not provide (they keep their values).
        unexpected: checkpoint backbone keys the model does not have.
        mismatched: (model key, checkpoint shape, model shape) not loaded; only the head may end up here, since a
            backbone mismatch raises.
        ignored: (checkpoint key, why) for keys that were not meant for the model (neck, detector heads, a
            classifier when loading a backbone, batch-norm counters the target has no slot for).
        untouched: model keys outside backbone and classifier (a neck, a face embedding) of which the file holds
            nothing: they keep their values. Usual when fine-tuning from a backbone's weights; a whole-model load
            (``load_task_checkpoint``) refuses them.
        adapted: what was changed to fit (the first conv's input channels). notes: key renames applied.
        from_2d: how many 2D kernels were made 3D (inflated or factorised into (2+1)D): a 2D network's weights
            starting a video model, which a whole-model load for a score (``load_task_checkpoint``) refuses.
    """

    checkpoint: str
    source: str
    evidence: str = ''
    loaded: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, Shape, Shape]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
    adapted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)
    from_2d: int = 0

    def __str__(self) -> str:
        lines = [f'Loaded {self.loaded} tensors from {self.checkpoint}',
                 f'  source: {self.source} ' + (f'(detected: {self.evidence})' if self.evidence else '(given)')]
        lines += [f'  renamed: {note}' for note in self.notes]
        lines += [f'  adapted: {note}' for note in self.adapted]
        if self.missing:
            lines.append(f'  missing ({len(self.missing)}, kept as initialised): {_listed(self.missing)}')
        if self.untouched:
            parts = sorted({key.split('.', 1)[0] for key in self.untouched})
            lines.append(f'  not in the file ({len(self.untouched)}, {", ".join(parts)}; kept as initialised): '
                         f'{_listed(self.untouched)}')
        if self.unexpected:
            lines.append(f'  unexpected ({len(self.unexpected)}, not in the model): {_listed(self.unexpected)}')
        if self.mismatched:
            shown = [f'{k} {tuple(c)} vs model {tuple(m)}' for k, c, m in self.mismatched]
            lines.append(f'  shape mismatch ({len(shown)}, skipped): {_listed(shown)}')
        by_reason = defaultdict(list)
        for key, reason in self.ignored:
            by_reason[reason].append(key)
        for reason, keys in by_reason.items():
            lines.append(f'  ignored ({len(keys)}, {reason}): {_listed(keys)}')
        return '\n'.join(lines)
