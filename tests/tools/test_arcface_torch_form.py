"""An arcface_torch config file, as insightface writes them, trains (validating on two .bin sets scored apart) with
tools/train.py on a real-format .rec (tiny: 4 identities, 112x112 faces, one epoch), and tools/test.py takes
insightface's own model.pt with it."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: insightface_reference
from insightface_reference import InsightfaceIResNet  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: tiny
from tiny import load_tool, run_tool_here as run  # noqa: E402


@pytest.mark.slow
def test_arcface_torch_config_trains_and_tests(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for who in range(4):
        pattern = rng.integers(0, 255, (112, 112, 3))
        (tmp_path / 'ids' / f'p{who}').mkdir(parents=True)
        for k in range(4):
            img = np.clip(pattern + rng.normal(0, 20, pattern.shape), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(tmp_path / 'ids' / f'p{who}' / f'{k}.png')
    rec = tmp_path / 'faces'
    # the data tools in this interpreter (their command lines are tested in tests/tools/test_face_tools.py)
    assert load_tool('face/make_rec').main([str(tmp_path / 'ids'), str(rec)]) == 0
    make_bin = load_tool('face/make_bin').main
    assert make_bin([str(tmp_path / 'ids'), '--out', str(rec / 'lfw.bin'), '--pairs', '5']) == 0
    assert make_bin([str(tmp_path / 'ids'), '--out', str(rec / 'cfp_fp.bin'), '--pairs', '5', '--seed', '1']) == 0
    config = tmp_path / 'tiny_r18.py'
    config.write_text(f'''from easydict import EasyDict as edict

config = edict()
config.margin_list = (1.0, 0.5, 0.0)
config.network = "r18"
config.output = {str(tmp_path / 'work')!r}
config.embedding_size = 32
config.sample_rate = 1.0
config.fp16 = False
config.batch_size = 8
config.lr = 0.02
config.num_workers = 0
config.rec = {str(rec)!r}
config.num_classes = 4
config.num_image = 16
config.num_epoch = 1
config.warmup_epoch = 0
config.val_targets = ['lfw', 'cfp_fp']
''')
    trained = run('train', capsys, config)
    assert 'is an arcface_torch config; translated' in trained
    ckpt = torch.load(tmp_path / 'work' / 'epoch_1.pth', weights_only=True)
    assert ckpt['state_dict']['margin_head.weight'].shape == (4, 32)  # num_classes x embedding_size
    # the validation after the epoch scored every val_target by name (tools/test.py runs the same metric below)
    scalars = sorted((tmp_path / 'work').glob('*/vis_data/scalars.json'))[-1].read_text().splitlines()
    metrics = next(json.loads(line) for line in scalars if 'verification/accuracy' in line)
    each = [metrics[f'verification/{name}/accuracy'] for name in ('lfw', 'cfp_fp')]
    assert all(0.0 <= a <= 1.0 for a in each) and metrics['verification/accuracy'] == pytest.approx(np.mean(each))
    # insightface's own checkpoint format (arcface_torch saves the backbone's state_dict as model.pt), unchanged
    torch.manual_seed(0)
    torch.save(InsightfaceIResNet(embedding=32, size=112).state_dict(), tmp_path / 'model.pt')
    tested = run('test', capsys, config, tmp_path / 'model.pt', '--work-dir', tmp_path / 'test_insightface')
    assert 'model.pt: insightface checkpoint' in tested
    assert 0.0 <= json.loads(tested.strip().splitlines()[-1])['verification/accuracy'] <= 1.0
