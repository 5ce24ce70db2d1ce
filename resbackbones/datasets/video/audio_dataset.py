"""mmaction2's ``AudioDataset``: ``path total_frames label`` per line, each path a (time, frequency) audio
feature array (``.npy``, e.g. a log-mel spectrogram) of a video with ``total_frames`` frames."""
from __future__ import annotations

import os
from typing import Callable, Sequence

from ...registry import DATASETS
from .action_list import ActionListDataset, read_lines


@DATASETS.register_module()
class AudioDataset(ActionListDataset):
    """Audio features listed in ``ann_file`` (mmaction2: ``data_prefix=dict(audio=folder)``).

    ``total_frames`` is the video's frame count: ``SampleFrames`` picks frames as for the video, and
    ``AudioFeatureSelector`` cuts the matching stretch of the spectrogram. Samples: ``dict(audio_path,
    total_frames, label, gt_label, start_index, modality='Audio', list_line)``; a pipeline starts ``LoadAudioFeature``,
    whose missing or unreadable files ``on_invalid='skip'`` skips.
    Arguments as ActionListDataset's (num_classes, multi_class, on_invalid, ...), and ``suffix``: appended to list
    paths that do not end with it (mmaction2 0.x's option, which its 1.x audioonly_r50 config still passes, though
    its own 1.x AudioDataset then refuses the config); None: paths as listed.
    """

    prefix_key = 'audio'
    modalities = ('Audio',)
    line_format = "'path/to/feature.npy TOTAL_FRAMES LABEL'"

    def __init__(self, ann_file: str, pipeline: Sequence[dict | Callable] = (), data_prefix: str | dict | None = None,
                 modality: str = 'Audio', suffix: str | None = None, **kwargs):  # mmaction2's argument order
        if suffix is not None and (not isinstance(suffix, str) or not suffix):
            raise ValueError(f"AudioDataset: suffix must be a file ending such as '.npy' or None; got {suffix!r}")
        self.suffix = suffix
        super().__init__(ann_file=ann_file, pipeline=pipeline, data_prefix=data_prefix, modality=modality, **kwargs)

    def load_data_list(self) -> list[dict]:
        data = []
        for lineno, fields in read_lines(self.ann_file, 'AudioDataset'):
            where = f'{self.ann_file}, line {lineno}'
            if len(fields) < 2 or not fields[1].isdigit() or int(fields[1]) < 1:
                raise ValueError(f'AudioDataset: {where}: expected {self.line_format} with TOTAL_FRAMES >= 1; got '
                                 f'{" ".join(fields)!r}')
            path = fields[0] if not self.suffix or fields[0].endswith(self.suffix) else fields[0] + self.suffix
            data.append(dict(audio_path=os.path.join(self.prefix, path), total_frames=int(fields[1]),
                             label=self.parse_labels(fields[2:], where), list_line=lineno))
        return self.finish(data)
