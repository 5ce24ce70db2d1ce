"""tools/analysis/detector_time.py: a detector's predict split into its parts, on a tiny Mask R-CNN config."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared COCO writer
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))
from coco_fixtures import tiny_maskrcnn_config  # noqa: E402
from tiny import load_tool, tiny_setup  # noqa: E402

from resbackbones.engine.cli import run_tool  # noqa: E402


def test_every_part_is_timed_and_they_fit_in_the_predict(tmp_path, capsys):
    config = tiny_maskrcnn_config(tmp_path)
    assert load_tool('analysis/detector_time').main([str(config), '--rounds', '2', '--threads', '1']) == 0
    lines = capsys.readouterr().out.splitlines()  # pycocotools prints its own lines too
    header = next(line for line in lines if 'ms per predict' in line)
    rows = {line.split()[0]: float(line.split()[1]) for line in lines[lines.index(header) + 1:]}
    assert 'detections' in header and ' 0 detections' not in header
    assert set(rows) == {'backbone', 'neck', 'rpn', 'box_roi_pool', 'box_head', 'box_predictor', 'mask_roi_pool',
                         'mask_head', 'mask_predictor', 'paste_masks', 'rest'}
    total = float(header.split(' ms per predict')[0].split()[-1])
    assert all(v > 0 for k, v in rows.items() if k != 'rest')
    assert sum(v for k, v in rows.items() if k != 'rest') <= total * 1.01  # parts do not overlap


def test_a_classifier_config_is_refused(tmp_path, capsys):
    config = tiny_setup(tmp_path)
    assert run_tool(load_tool('analysis/detector_time').main, [str(config)], prog='detector_time.py') == 2
    assert 'not a two-stage detector' in capsys.readouterr().err


@pytest.mark.parametrize('threads', ['0', '-1'])
def test_threads_below_one_are_refused(tmp_path, threads):
    # -1 was torch's set_num_threads traceback, 0 silently ignored
    with pytest.raises(SystemExit):
        load_tool('analysis/detector_time').main([str(tiny_setup(tmp_path)), '--threads', threads])
