"""tools/demos/nuclei_maskrcnn.py runs end to end (fetch, convert, train, evaluate, draw) with 2 iterations.
The full run and its figures are in docs/detection.md; this only keeps the script from rotting."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_demo_runs_two_iterations(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('nuclei_demo', REPO / 'tools/demos/nuclei_maskrcnn.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    try:
        demo.prepare_data(REPO / 'data')
    except SystemExit as err:
        pytest.skip(f'nuclei data not fetchable here: {err}')
    assert demo.main(['--iters', '2', '--work-dir', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert 'segm_mAP_50' in out and 'held-out right-most 128 columns' in out
    assert (tmp_path / 'nuclei_val.png').is_file()
