"""tools/face/partial_fc_memory.py at a small size: the full head in one process, then the class centres halved
over 2 gloo processes; bad arguments are one line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from resbackbones.engine.cli import run_tool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: load_tool
from tiny import REPO, load_tool  # noqa: E402


@pytest.mark.slow
def test_centres_per_process_halve_over_two_ranks():
    # 40,000 x 64 float32 centres: 9.8 MiB in one head, 4.9 MiB per rank when sharded (sampled or not)
    # a command line: its spawned processes import the tool by its path
    done = subprocess.run([sys.executable, str(REPO / 'tools/face/partial_fc_memory.py'), '--classes', '40000',
                           '--dim', '64', '--batch', '8', '--sample-rate', '0.25'], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split('|')[1:-1] for line in done.stdout.splitlines() if line.startswith('| ')]
    table = {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}
    assert table['ArcFaceHead (full)'][:2] == ['1', '10']
    assert table['PartialFCHead'][:2] == ['2', '5'] and table['PartialFCHead, sample rate 0.25'][:2] == ['2', '5']
    assert all(float(cells[2]) >= 0 for cells in table.values())


def test_bad_world_is_one_line(capsys):
    assert run_tool(load_tool('face/partial_fc_memory').main, ['--world', '1'], prog='partial_fc_memory.py') == 2
    err = capsys.readouterr().err.strip()
    assert '--world must be >= 2' in err and len(err.splitlines()) == 1


@pytest.mark.parametrize('argv', [['--sample-rate', '0'], ['--sample-rate', '1.5'], ['--batch', '0']])
def test_bad_rates_and_sizes_are_named_before_measuring(capsys, argv):
    # failed in the third measurement after minutes of the first two (or printed a table for a batch of 0)
    assert run_tool(load_tool('face/partial_fc_memory').main, argv, prog='partial_fc_memory.py') == 2
    assert '--sample-rate must be in (0, 1], --batch and --dim >= 1' in capsys.readouterr().err
