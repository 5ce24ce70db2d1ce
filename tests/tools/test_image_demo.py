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


def test_rotated_and_16_bit_images_are_drawn_as_the_model_saw_them_and_foreign_weights_refused(tmp_path, capsys):
    import torch

    from resbackbones.engine.cli import run_tool
    spec = importlib.util.spec_from_file_location('image_demo', REPO / 'demo/image_demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    config = str(REPO / 'configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei.py')
    turned = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96, 3), dtype=np.uint8))
    exif = turned.getexif()
    exif[0x0112] = 6  # shown rotated: 96 high, 64 wide (the masks' size); drawing failed on an IndexError
    turned.save(tmp_path / 'turned.jpg', exif=exif)
    Image.fromarray((np.arange(64 * 96).reshape(64, 96) * 10).astype(np.uint16)).save(tmp_path / 'deep.png')
    for name, shape in (('turned.jpg', (96, 64, 3)), ('deep.png', (64, 96, 3))):
        out = tmp_path / f'{name}.png'
        assert demo.main([str(tmp_path / name), config, '--out-file', str(out), '--score-thr', '0']) == 0
        picture = np.asarray(Image.open(out))
        assert picture.shape == shape and picture.mean() < 200, name  # the 16-bit image was drawn all white
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(8, 1, 3, 3)}}, tmp_path / 'other.pth')
    capsys.readouterr()
    assert run_tool(demo.main, [str(tmp_path / 'deep.png'), config, '--weights', str(tmp_path / 'other.pth')],
                    prog='image_demo.py') == 2
    assert f'{tmp_path / "other.pth"} does not fit' in capsys.readouterr().err  # detections of random weights


def test_the_input_image_is_not_overwritten(tmp_path, capsys):
    """--out-file naming the input replaced the photo with the drawing."""
    import pytest
    spec = importlib.util.spec_from_file_location('image_demo', REPO / 'demo/image_demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    Image.fromarray(np.zeros((64, 96), np.uint8)).save(tmp_path / 'a.png')
    before = (tmp_path / 'a.png').read_bytes()
    with pytest.raises(SystemExit):
        demo.main([str(tmp_path / 'a.png'), str(REPO / 'configs/mask_rcnn/mask-rcnn_r18_fpn_nuclei.py'),
                   '--out-file', str(tmp_path / '.' / 'a.png')])
    assert 'is the input image' in capsys.readouterr().err and (tmp_path / 'a.png').read_bytes() == before


def test_a_config_of_another_task_is_refused_before_drawing(tmp_path, capsys):
    # a classifier's prediction reached the drawing: AttributeError 'dict' object has no attribute 'pred_instances'
    from resbackbones.engine.cli import run_tool
    spec = importlib.util.spec_from_file_location('image_demo', REPO / 'demo/image_demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / 'a.png')
    status = run_tool(demo.main, [str(tmp_path / 'a.png'), str(REPO / 'configs/classification/resnet18_digits.py'),
                                  '--out-file', str(tmp_path / 'o.png')], prog='image_demo.py')
    assert status == 2 and "model.type is 'ImageClassifier'; this demo draws detections" in capsys.readouterr().err
    assert not (tmp_path / 'o.png').exists()
