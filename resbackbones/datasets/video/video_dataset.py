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
    ``delimiter`` (mmaction2's): what separates the path from the labels; ' ' (default) splits on any whitespace,
    another one (e.g. ',') lets paths hold spaces.
    """

    line_format = "'relative/path.mp4 LABEL'"

    def __init__(self, ann_file: str, *args, delimiter: str = ' ', **kwargs):
        if not isinstance(delimiter, str) or not delimiter:
            raise ValueError(f"VideoDataset: delimiter must be a non-empty string such as ' ' or ','; got "
                             f'{delimiter!r}')
        self.delimiter = delimiter
        super().__init__(ann_file, *args, **kwargs)

    def load_data_list(self) -> list[dict]:
        if self.prefix and not os.path.isdir(self.prefix):
            raise FileNotFoundError(f'VideoDataset: data_prefix {self.prefix} is not a folder (paths in '
                                    f'{self.ann_file} are relative to it)')
        data = []
        for lineno, fields in read_lines(self.ann_file, 'VideoDataset', self.delimiter):
            where = f'{self.ann_file}, line {lineno}'
            if not self.multi_class and len(fields) > 2:
                raise ValueError(f'VideoDataset: {where}: {len(fields)} fields {fields} where {self.line_format} '
                                 f'has 2; a path with spaces needs a delimiter of its own (delimiter=\',\' with '
                                 f'\'path,LABEL\' lines), several labels multi_class=True')
            label = self.parse_labels(fields[1:], where)
            data.append(dict(filename=os.path.join(self.prefix, fields[0]), label=label, list_line=lineno))
        return self.finish(data)
