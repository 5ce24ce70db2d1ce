"""demo/image_demo.py: config + image in, detections printed and a picture written."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def test_image_demo_writes_a_picture(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('image_demo', REPO / 'demo/image_demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96), dtype=np.uint8)).save(tmp_path / 'a.png')
    out = tmp_path / 'res.png'
    config = str(REPO / 'configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei.py')  # grey input, random weights
    assert demo.main([str(tmp_path / 'a.png'), config, '--out-file', str(out), '--score-thr', '0']) == 0
    assert np.asarray(Image.open(out)).shape == (64, 96, 3)
    assert f'saved {out}' in capsys.readouterr().out
