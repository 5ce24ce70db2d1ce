"""mmaction2's video list: one ``relative/path.mp4 label`` line per video (``label label ...`` with multi_class)."""
from __future__ import annotations

import os

from ...registry import DATASETS
from .action_list import ActionListDataset, read_lines


@DATASETS.register_module()
class VideoDataset(ActionListDataset):
    """Videos listed in ``ann_file``, paths relative to ``data_prefix`` (mmaction2: ``dict(video=folder)``).

    Samples before the pipeline: ``dict(filename, label, gt_label, start_index=0, modality='RGB', list_line)``. See
    ``ActionListDataset`` for the arguments; a pipeline starts ``PyAVInit, SampleFrames, PyAVDecode``.
    """

    line_format = "'relative/path.mp4 LABEL'"

    def load_data_list(self) -> list[dict]:
        if self.prefix and not os.path.isdir(self.prefix):
            raise FileNotFoundError(f'VideoDataset: data_prefix {self.prefix} is not a folder (paths in '
                                    f'{self.ann_file} are relative to it)')
        data = []
        for lineno, fields in read_lines(self.ann_file, 'VideoDataset'):
            label = self.parse_labels(fields[1:], f'{self.ann_file}, line {lineno}')
            data.append(dict(filename=os.path.join(self.prefix, fields[0]), label=label, list_line=lineno))
        return self.finish(data)
