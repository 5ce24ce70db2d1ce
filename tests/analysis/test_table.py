"""resbackbones/analysis/table.py: one row per named model, numbers read off the built models."""
from __future__ import annotations

import pytest

from resbackbones.analysis import markdown_table, model_table_rows


@pytest.mark.parametrize('name, channels, backbone_m, classifier_m', [
    ('resnet18', (64, 128, 256, 512), 11.18, 11.69),
    ('resnet50', (256, 512, 1024, 2048), 23.51, 25.56),
])
def test_row_values(name, channels, backbone_m, classifier_m):
    (row,) = model_table_rows([name])
    assert (row.name, row.channels, row.strides) == (name, channels, (4, 8, 16, 32))
    assert (round(row.backbone_params_m, 2), round(row.classifier_params_m, 2)) == (backbone_m, classifier_m)


@pytest.mark.parametrize('size, num_classes', [((224, 224), 1000), ((448, 448), 10)])
def test_size_and_classes_change_the_counts(size, num_classes):
    (row,) = model_table_rows(['resnet18'], size=size, num_classes=num_classes)
    (base,) = model_table_rows(['resnet18'])
    scale = size[0] * size[1] / 224 ** 2
    assert row.gmacs == pytest.approx(base.gmacs * scale, rel=0.01)
    assert row.classifier_params_m - row.backbone_params_m == pytest.approx(513 * num_classes / 1e6)


def test_markdown_has_a_header_and_one_line_per_row():
    lines = markdown_table(model_table_rows(['resnet18', 'resnet50'])).splitlines()
    assert len(lines) == 4 and lines[0].startswith('| model |') and set(lines[1]) <= set('|-: ')
    assert lines[3] == '| resnet50 | 23.51 | 25.56 | 4.09 | 256/512/1024/2048 | 4/8/16/32 |'

