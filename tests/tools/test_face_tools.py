"""The face path end to end on tiny real-format files: identity folders -> make_rec.py -> tools/train.py with an
ArcFace config over the .rec -> tools/test.py on a .bin from make_bin.py -> embed.py and verify.py on the checkpoint.
Bad inputs give one line and exit 2."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from resbackbones.engine.cli import run_tool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: load_tool
from tiny import load_tool  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared gloo helpers
from gloo import free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools'


def _main(tool: str, *args) -> None:
    """tools/TOOL.py's main in this interpreter: a fresh one costs seconds of imports (the command lines of
    embed.py and verify.py run below, train.py's and test.py's in tests/tools/test_train_test.py)."""
    assert run_tool(load_tool(tool).main, list(map(str, args)), prog=f'{tool}.py') == 0


def _run(*args, ok=True):
    done = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS='1'), cwd=REPO)
    if ok:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('face')
    rng = np.random.default_rng(0)
    for who in range(4):  # each identity a noisy copy of its own pattern
        pattern = rng.integers(0, 255, (16, 16, 3))
        (tmp / 'ids' / f'p{who}').mkdir(parents=True)
        for k in range(6):
            img = np.clip(pattern + rng.normal(0, 20, pattern.shape), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(tmp / 'ids' / f'p{who}' / f'{k}.png')
    _main('face/make_rec', tmp / 'ids', tmp / 'rec')
    _main('face/make_bin', tmp / 'ids', '--out', tmp / 'pairs.bin', '--pairs', '10')
    config = tmp / 'tiny_arcface.py'
    config.write_text(f"""_base_ = [{str(REPO / 'configs/arcface/iresnet50_8xb128_ms1mv2_arcface.py')!r}]
model = dict(backbone=dict(depth=18, base_channels=8), num_classes=4, input_size=(16, 16),
             embedding=dict(embedding_dim=16), margin_head=dict(scale=16.0))
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root={str(tmp / 'rec')!r}, num_classes=4))
val_dataloader = dict(batch_size=8, num_workers=0, dataset=dict(bin_file={str(tmp / 'pairs.bin')!r}))
test_dataloader = val_dataloader
val_evaluator = dict(roc_file={str(tmp / 'roc.png')!r})
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=2, val_interval=2)
param_scheduler = [dict(type='PolyLR', power=2.0, eta_min=0.0, by_epoch=True, begin=0, end=2,
                        convert_to_iter_based=True)]
""")
    _main('train', config, '--work-dir', tmp / 'work')
    return tmp, config, tmp / 'work' / 'epoch_2.pth'


@pytest.mark.slow
def test_train_on_rec_then_test_on_bin(trained, capsys):
    tmp, config, ckpt = trained
    capsys.readouterr()
    _main('test', config, ckpt, '--work-dir', tmp / 'test')
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= metrics['verification/accuracy'] <= 1.0 and 'verification/best_threshold' in metrics
    assert (tmp / 'roc.png').is_file()
    # --show-dir: the ROC goes there (the classifier's prediction grid stopped the test: no 'pred_label')
    _main('test', config, ckpt, '--work-dir', tmp / 'test', '--show-dir', tmp / 'show')
    assert sorted(p.name for p in (tmp / 'show').iterdir()) == ['roc.png']


@pytest.mark.slow
def test_embed_and_verify(trained):
    tmp, config, ckpt = trained
    _run(TOOLS / 'face/embed.py', config, ckpt, tmp / 'ids', '--out', tmp / 'emb.npz', '--flip')
    saved = np.load(tmp / 'emb.npz')  # allow_pickle=False: every field is a plain array
    assert saved['embeddings'].shape == (24, 16) and len(saved['paths']) == 24
    assert str(saved['config']) == str(config.resolve()) and str(saved['checkpoint']) == str(ckpt.resolve())
    assert str(saved['checkpoint_sha256']) == hashlib.sha256(ckpt.read_bytes()).hexdigest() and bool(saved['flip'])
    np.testing.assert_allclose(np.linalg.norm(saved['embeddings'], axis=1), 1.0, rtol=1e-5)
    a, b = tmp / 'ids/p0/0.png', tmp / 'ids/p0/1.png'
    done = _run(TOOLS / 'face/verify.py', config, ckpt, a, b, '--threshold', '-1', '--flip')
    similarity = float(done.stdout.split('cosine similarity ')[1].split(':')[0])
    i, j = (list(saved['paths']).index(str(p)) for p in (a, b))
    assert similarity == pytest.approx(float(saved['embeddings'][i] @ saved['embeddings'][j]), abs=1e-4)
    assert 'same' in done.stdout
    # a threshold above the pair's similarity turns the verdict (the threshold is really applied)
    done = _run(TOOLS / 'face/verify.py', config, ckpt, a, b, '--threshold',
                f'{min(similarity + 0.001, 1.0):.4f}', '--flip')
    assert ': different (threshold' in done.stdout


@pytest.mark.slow
def test_two_rank_partial_fc_run_resumes_as_if_never_stopped(trained):
    """Two gloo ranks of the Partial FC config, 2 epochs; then the same run resumed from epoch 1: both end with the
    same weights and momentum. Before checkpoints held the whole class-centre matrix, rank 1 resumed from rank 0's
    centres (equal shard shapes: 4 classes over 2 ranks) and the runs parted."""
    tmp, config, _ = trained
    # no random flips (resumable draw for draw), and a constant lr (the config's decays to 0 in the last epoch)
    options = ['--cfg-options', "train_dataloader.dataset.pipeline=[dict(type='LoadImageFromBytes'),"
               "dict(type='PackInputs')]", 'train_cfg.val_interval=10',
               "param_scheduler=[dict(type='ConstantLR',factor=1.0,by_epoch=True,begin=0,end=2)]"]

    def dist_train(work, *args):
        done = subprocess.run(['bash', str(TOOLS / 'dist_train.sh'), str(config), '2', '--work-dir', str(work),
                               *args, *options], capture_output=True, text=True, timeout=600, cwd=REPO,
                              env=dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
                                       PORT=str(free_port()), CUDA_VISIBLE_DEVICES=''))
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    dist_train(tmp / 'whole')
    dist_train(tmp / 'resumed', '--resume', str(tmp / 'whole' / 'epoch_1.pth'))
    whole, resumed = (torch.load(tmp / run / 'epoch_2.pth', weights_only=True) for run in ('whole', 'resumed'))
    assert torch.load(tmp / 'whole' / 'epoch_1.pth', weights_only=True)['state_dict'][
        'margin_head.weight'].shape == (4, 16)  # both ranks' centres
    assert whole['state_dict'].keys() == resumed['state_dict'].keys()
    for key, value in whole['state_dict'].items():
        torch.testing.assert_close(resumed['state_dict'][key], value, rtol=0, atol=1e-6, msg=key)
    for index, state in whole['optimizer']['state'].items():
        torch.testing.assert_close(resumed['optimizer']['state'][index]['momentum_buffer'],
                                   state['momentum_buffer'], rtol=0, atol=1e-6, msg=str(index))



@pytest.mark.slow
def test_two_ranks_train_uneven_shards_with_ema_and_test_on_two_ranks(trained):
    """3 identities over 2 ranks (shards of 2 and 1 rows) with an EMAHook. mmengine's start-up broadcast of every
    weight from rank 0 aborted gloo ('... vs ...: data size doesn't match'); the EMA swap kept rank 0's averaged
    rows only; and a 2-rank test called the run's own checkpoint a foreign (mmpretrain) one."""
    tmp, config, _ = trained
    rng = np.random.default_rng(1)
    for who in range(3):
        pattern = rng.integers(0, 255, (16, 16, 3))
        (tmp / 'ids3' / f'p{who}').mkdir(parents=True)
        for k in range(12):  # 18 images a rank: two batches of 8
            img = np.clip(pattern + rng.normal(0, 20, pattern.shape), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(tmp / 'ids3' / f'p{who}' / f'{k}.png')
    _main('face/make_rec', tmp / 'ids3', tmp / 'rec3')
    options = ['--cfg-options', 'model.num_classes=3', f'train_dataloader.dataset.data_root={tmp / "rec3"}',
               'train_dataloader.dataset.num_classes=3', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=10',
               "custom_hooks=[dict(type='EMAHook', momentum=0.5)]"]

    def dist(script, *args):
        done = subprocess.run(['bash', str(TOOLS / script), str(config), *map(str, args), *options],
                              capture_output=True, text=True, timeout=600, cwd=REPO,
                              env=dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
                                       PORT=str(free_port()), CUDA_VISIBLE_DEVICES=''))
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        return done.stdout

    dist('dist_train.sh', '2', '--work-dir', tmp / 'ema3')
    checkpoint = torch.load(tmp / 'ema3' / 'epoch_1.pth', weights_only=True)
    averaged, raw = checkpoint['state_dict']['margin_head.weight'], checkpoint['ema_state_dict'][
        'module.margin_head.weight']
    assert averaged.shape == raw.shape == (3, 16) and not torch.equal(averaged, raw)
    tested = dist('dist_test.sh', tmp / 'ema3' / 'epoch_1.pth', '2', '--work-dir', tmp / 'ema3_test')
    assert 'verification/accuracy' in tested


@pytest.mark.parametrize('args, message', [
    (['face/verify.py', 'c.py', 'x.pth', 'no.png', 'no2.png', '--threshold', '0.3'], 'image not found: no.png'),
    (['face/verify.py', 'c.py', 'x.pth', 'a', 'b', '--threshold', '3'], 'cosine similarity in'),
    (['face/make_bin.py', 'no_such_dir', '--out', 'x.bin'], 'no_such_dir is not a folder'),
    (['face/make_rec.py', 'no_such_dir', 'out'], 'data_root no_such_dir is not a folder'),
])
def test_bad_inputs_give_one_line(args, message, capsys, monkeypatch):
    # in this interpreter, through the tools' own run_tool wrapper (a fresh one per case would cost seconds each;
    # tests/tools/test_train_test.py checks the exit status of a real command line)
    monkeypatch.chdir(REPO)
    try:
        status = run_tool(load_tool(args[0].removesuffix('.py')).main, args[1:], prog=Path(args[0]).name)
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code
    err = capsys.readouterr().err
    assert status == 2 and message in err and 'Traceback' not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_bad_outputs_checkpoints_and_files_are_named_before_the_work(trained, tmp_path, capsys):
    tmp, config, ckpt = trained
    wider = tmp_path / 'wider.py'
    wider.write_text(f"_base_ = [{str(config)!r}]\nmodel = dict(embedding=dict(embedding_dim=32))\n")
    embed = load_tool('face/embed').main
    cases = [([wider, ckpt, tmp / 'ids', '--out', tmp_path / 'e.npz'], 'shapes ['),  # was a torch traceback
             ([config, ckpt, tmp / 'ids', '--out', tmp_path], 'is a folder; give a file name'),  # wrote e.g. x.npz
             ([config, ckpt, tmp / 'ids', '--out', tmp / 'pairs.bin' / 'e.npz'], '--out folder ')]  # after the work
    for args, message in cases:
        assert run_tool(embed, list(map(str, args)), prog='embed.py') == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    ids = tmp_path / 'ids'
    for who in ('p0', 'p1'):
        (ids / who).mkdir(parents=True)
        for k in range(4):
            (ids / who / f'{k}.png').write_bytes((tmp / 'ids' / who / f'{k}.png').read_bytes())
        (ids / who / '._0.png').write_bytes(b'macOS resource fork')  # hidden: skipped, as the datasets skip it
    (ids / '.ipynb_checkpoints').mkdir()
    _main('face/make_bin', ids, '--out', tmp_path / 'ok.bin', '--pairs', '5')
    (ids / 'p1' / '2.png').write_bytes(b'not an image')  # one of the images seed 0 draws
    assert run_tool(load_tool('face/make_bin').main, [str(ids), '--out', str(tmp_path / 'bad.bin'), '--pairs', '5'],
                    prog='make_bin.py') == 2
    err = capsys.readouterr().err
    assert f'cannot read image {ids / "p1" / "2.png"}' in err and not (tmp_path / 'bad.bin').exists()


@pytest.mark.parametrize('keep', [[], ['--keep-bytes']])
def test_make_rec_names_a_truncated_image_and_keeps_the_old_rec(tmp_path, capsys, keep):
    """Re-encoding stopped on a bare 'image file is truncated' traceback naming no file; --keep-bytes stored the
    broken bytes without a word, to fail in training."""
    from PIL import Image
    for who in ('ann', 'bob'):
        (tmp_path / 'ids' / who).mkdir(parents=True)
        Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(tmp_path / 'ids' / who / 'a.png')
    whole = (tmp_path / 'ids' / 'bob' / 'a.png').read_bytes()
    (tmp_path / 'ids' / 'bob' / 'trunc.png').write_bytes(whole[:len(whole) // 2])
    (tmp_path / 'rec').mkdir()
    (tmp_path / 'rec' / 'train.rec').write_bytes(b'old')
    status = run_tool(load_tool('face/make_rec').main, [str(tmp_path / 'ids'), str(tmp_path / 'rec'), *keep],
                      prog='make_rec.py')
    err = capsys.readouterr().err
    assert status == 2 and f'cannot read image {tmp_path / "ids" / "bob" / "trunc.png"}' in err
    assert 'Traceback' not in err and (tmp_path / 'rec' / 'train.rec').read_bytes() == b'old'


@pytest.mark.parametrize('seed', range(4))
def test_make_bin_never_pairs_byte_identical_files(tmp_path, seed):
    pixels = {name: np.full((8, 8), value, np.uint8) for name, value in (('x', 10), ('y', 90), ('z', 170))}
    layout = {'a/1.png': 'x', 'a/2.png': 'x', 'a/3.png': 'y', 'b/4.png': 'z', 'b/5.png': 'y'}  # a/2 = a/1, b/5 = a/3
    for path, name in layout.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        Image.fromarray(pixels[name]).save(tmp_path / path)
    make_bin = load_tool('face/make_bin')
    duplicates = []
    pairs = make_bin.draw_pairs(make_bin.gather([str(tmp_path)], None), 3, seed, duplicates)
    content = {str(tmp_path / path): name for path, name in layout.items()}
    assert len(pairs) == 6 and all(content[a] != content[b] for a, b, _ in pairs)
    # the three same pairs of different files are all there are: a/1-a/3, a/2-a/3, b/4-b/5
    assert sorted(tuple(sorted((Path(a).name, Path(b).name))) for a, b, same in pairs if same) == [
        ('1.png', '3.png'), ('2.png', '3.png'), ('4.png', '5.png')]
    assert all(content[a] == content[b] for a, b in duplicates)
