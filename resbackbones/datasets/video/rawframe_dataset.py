"""mmaction2's rawframe list: ``frame_dir total_frames label`` per video, frames as image files in the folder."""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from ...registry import DATASETS
from .action_list import ActionListDataset, read_lines


def check_filename_tmpl(filename_tmpl: str, modality: str) -> None:
    """An RGB template formats one index ('img_{:05}.jpg'); a Flow one the direction and the index
    ('flow_{}_{:05d}.jpg'); each must give every frame (and direction) its own name: 'img_{:05}.jpg' formats
    ('x', 1) as 'img_x0000.jpg' for every index. ValueError shows the template and an example otherwise."""
    flow = modality == 'Flow'
    example = "'flow_{}_{:05d}.jpg' (direction, index)" if flow else "'img_{:05}.jpg'"
    try:
        names = {filename_tmpl.format(*(d, i) if flow else (i,)) for d in 'xy' for i in (1, 2)}
    except (IndexError, KeyError, ValueError, AttributeError, TypeError) as err:
        raise ValueError(f'RawframeDataset: filename_tmpl for modality={modality!r} must format like {example}; '
                         f'got {filename_tmpl!r} ({err})') from None
    if len(names) != (4 if flow else 2):  # one name per direction and index
        what = 'the x and y flow images of a frame, and every frame,' if flow else 'every frame'
        raise ValueError(f'RawframeDataset: filename_tmpl {filename_tmpl!r} does not give {what} its own name '
                         f'(e.g. {sorted(names)[0]!r}); with modality={modality!r} it must format like {example}')


@DATASETS.register_module()
class RawframeDataset(ActionListDataset):
    """Folders of extracted frames listed in ``ann_file`` (mmaction2: ``data_prefix=dict(img=folder)``).

    Args (besides ActionListDataset's):
        filename_tmpl: frame file name from its index, default mmaction2's 'img_{:05}.jpg'; with
            ``modality='Flow'`` from the direction and the index, e.g. 'flow_{}_{:05d}.jpg' (flow_x_00001.jpg and
            flow_y_00001.jpg, denseflow's and mmaction2's layout).
        with_offset: lines are ``frame_dir offset total_frames label`` (clips cut from long videos).
        start_index: index of the first frame file, default 1 as mmaction2 (img_00001.jpg).

    Samples: ``dict(frame_dir, total_frames, label, gt_label, filename_tmpl, offset, start_index, modality,
    list_line)``; a pipeline starts ``SampleFrames, RawFrameDecode``. For Flow, ``total_frames`` counts flow fields
    (x/y pairs). A missing frame file is reported when it is read.
    """

    prefix_key = 'img'
    modalities = ('RGB', 'Flow')
    line_format = "'frame_dir TOTAL_FRAMES LABEL'"

    def __init__(self, ann_file: str, pipeline: Sequence[dict | Callable] = (), data_prefix: str | dict | None = None,
                 filename_tmpl: str = 'img_{:05}.jpg', with_offset: bool = False, start_index: int = 1,
                 **kwargs: Any):  # mmaction2's order of the first three: (ann_file, pipeline, data_prefix)
        check_filename_tmpl(filename_tmpl, kwargs.get('modality', 'RGB'))
        self.filename_tmpl, self.with_offset = filename_tmpl, bool(with_offset)
        if with_offset:
            self.line_format = "'frame_dir OFFSET TOTAL_FRAMES LABEL'"
        super().__init__(ann_file=ann_file, pipeline=pipeline, data_prefix=data_prefix, start_index=start_index,
                         **kwargs)

    def load_data_list(self) -> list[dict]:
        if self.prefix and not os.path.isdir(self.prefix):
            raise FileNotFoundError(f'RawframeDataset: data_prefix {self.prefix} is not a folder (frame_dir entries '
                                    f'in {self.ann_file} are relative to it)')
        numbers = 2 if self.with_offset else 1
        data = []
        for lineno, fields in read_lines(self.ann_file, 'RawframeDataset'):
            where = f'{self.ann_file}, line {lineno}'
            counts = []
            for text in fields[1:1 + numbers]:
                if not text.isdigit():
                    raise ValueError(f'RawframeDataset: {where}: expected {self.line_format}; {text!r} is not a '
                                     f'frame count')
                counts.append(int(text))
            if len(counts) < numbers or counts[-1] < 1:
                raise ValueError(f'RawframeDataset: {where}: expected {self.line_format} with total_frames >= 1; '
                                 f'got {" ".join(fields)!r}')
            label = self.parse_labels(fields[1 + numbers:], where)
            data.append(dict(frame_dir=os.path.join(self.prefix, fields[0]), total_frames=counts[-1], label=label,
                             offset=counts[0] if self.with_offset else 0, filename_tmpl=self.filename_tmpl,
                             list_line=lineno))
        return self.finish(data)
