"""tools/train.py, tools/test.py and tools/dist_train.sh / dist_test.sh end to end on a tiny grey ImageFolder."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: the shared tiny set-up
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared gloo helpers
from tiny import REPO, tiny_setup  # noqa: E402
from gloo import free_port  # noqa: E402

from resbackbones.engine.cli import run_tool  # noqa: E402

TOOLS = REPO / 'tools'


def tool(name):
    spec = importlib.util.spec_from_file_location(f'tool_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def own_leaf(config, tmp_path):
    """A leaf over ``config`` with a file name of its own: mmengine names a run's logger after the config file and
    the second it started, so two in-process runs of one file within a second would share a logger."""
    leaf = tmp_path / f'leaf_{tmp_path.name}.py'
    leaf.write_text(f'_base_ = [{str(config)!r}]\n')
    return leaf


def env(**extra):
    return dict(os.environ, OMP_NUM_THREADS='1', **extra)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A config over tiny data and a checkpoint trained from it by tools/train.py (2 epochs)."""
    tmp = tmp_path_factory.mktemp('tools')
    config = tiny_setup(tmp, max_epochs=2)
    work = tmp / 'work'
    done = subprocess.run([sys.executable, str(TOOLS / 'train.py'), str(config), '--work-dir', str(work)],
                          capture_output=True, text=True, env=env(), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp, config, work


def test_train_writes_logs_and_safe_checkpoints(tiny):
    tmp, config, work = tiny
    assert (work / 'last_checkpoint').read_text().strip() == str(work / 'epoch_2.pth')
    ckpt = torch.load(work / 'epoch_2.pth', weights_only=True)
    assert ckpt['meta']['epoch'] == 2 and 'state_dict' in ckpt and 'optimizer' in ckpt
    logs = list(work.glob('*/*.log'))
    scalars = list(work.glob('*/vis_data/scalars.json'))
    assert logs and scalars
    lines = [json.loads(line) for line in scalars[0].read_text().splitlines()]
    assert any('loss' in r for r in lines) and any('accuracy/top1' in r for r in lines)


def test_test_prints_metrics_and_draws_predictions(tiny):
    tmp, config, work = tiny
    show = tmp / 'show'
    done = subprocess.run([sys.executable, str(TOOLS / 'test.py'), str(config), str(work / 'epoch_2.pth'),
                           '--work-dir', str(tmp / 'test-work'), '--show-dir', str(show)],
                          capture_output=True, text=True, env=env(), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(metrics) == {'accuracy/top1', 'accuracy/top5'} and 0 <= metrics['accuracy/top1'] <= 100
    assert 'ETA' in done.stdout  # the evaluation progress bar
    png = (show / 'predictions.png').read_bytes()
    assert png.startswith(b'\x89PNG') and len(png) > 1000


def test_test_into_the_training_work_dir_keeps_its_config_dump(tiny, tmp_path, capsys):
    """tools/test.py's default work dir is the training's: its config dump (with load_from and the test's
    overrides) replaced the training's record."""
    import shutil
    _, config, work = tiny
    shutil.copytree(work, tmp_path / 'work')
    dump = tmp_path / 'work' / config.name
    before = dump.read_text()
    code = run_tool(tool('test').main, [str(config), str(tmp_path / 'work' / 'epoch_2.pth'), '--work-dir',
                                        str(tmp_path / 'work')], prog='test.py')
    assert code == 0 and dump.read_text() == before
    beside = [p for p in (tmp_path / 'work').glob(f'{config.stem}_*.py')]
    assert len(beside) == 1 and 'load_from' in beside[0].read_text() and beside[0].read_text() != before


@pytest.mark.parametrize('argv, expected', [
    (['missing.py'], 'config file not found: missing.py'),
    (['{config}', '--cfg-options', 'train_cfg.max_epochs=1', 'max_epoch=3'], "--cfg-options max_epoch: 'max_epoch' "
                                                                           "is not a top-level key"),
    (['{config}', '--cfg-options', 'model.backbon.depth=50'], "'model.backbon' does not exist"),
    (['{config}', '--cfg-options', 'train_dataloader.dataset.data_root={tmp}/nowhere'],
     'data_root {tmp}/nowhere does not exist'),
    (['{config}', '--cfg-options', 'train_dataloader.dataset.data_root={tmp}/empty'], 'has no class folders'),
    (['{config}', '--resume', '{tmp}/nope.pth'], '--resume: checkpoint file not found: {tmp}/nope.pth'),
    (['{config}', '--resume', '{tmp}/empty'], '--resume: {tmp}/empty is a folder; give a checkpoint file such as '),
    # a typo reached torch's clip_grad_norm_ at the first step: a TypeError naming neither key nor choices
    (['{config}', '--cfg-options', 'optim_wrapper.clip_grad=dict(max_nrom=1.0)'],
     "optim_wrapper.clip_grad (type 'norm'): unknown key(s) 'max_nrom'; expected some of ['type', 'max_norm', "),
    (['{config}', '--cfg-options', "optim_wrapper.clip_grad=dict(type='value', max_norm=1.0)"],
     "optim_wrapper.clip_grad (type 'value'): unknown key(s) 'max_norm'"),
    (['{config}', '--cfg-options', 'optim_wrapper.clip_grad=dict(max_norm=None)'],  # a TypeError at the first step
     'optim_wrapper.clip_grad.max_norm must be a number > 0 (clip_grad=None: no clipping); got None'),
    (['{config}', '--work-dir', '{config}'], 'is a file'),
    (['{config}', '--work-dir', '{config}/run'], 'work_dir {config}/run cannot be created: Not a directory'),
    (['{config}', '--launcher', 'mpi'], "argument --launcher: invalid choice: 'mpi'"),
    (['{config}', '--cfg-options', 'param_scheduler=[dict(type=ConstantLR)]'],  # mmengine's parser: RecursionError
     "--cfg-options param_scheduler: cannot read the value '[dict(type=ConstantLR)]'"),
    (['{config}', '--cfg-options', 'train_cfg.max_epochs'], "--cfg-options 'train_cfg.max_epochs': expected KEY=VALUE"),
    # a typo here stopped the run with a traceback at its first save, an epoch in
    (['{config}', '--cfg-options', 'default_hooks.checkpoint.max_keep_ckpt=1'],
     "default_hooks.checkpoint: CheckpointHook takes no 'max_keep_ckpt' (its arguments: "),
    # a text file gave 'error: 101', a truncated one a traceback; another model's checkpoint loaded in part, then
    # the optimizer failed on a tensor size in torch's SGD
    (['{config}', '--resume', '{tmp}/notes.pth'], '{tmp}/notes.pth is not a readable checkpoint: '),
    (['{config}', '--resume', '{ckpt}', '--cfg-options', 'model.backbone.depth=34'],
     '{ckpt} does not fit the model of the config: '),
    # tensors of other shapes only (no key missing): a traceback naming no file
    (['{config}', '--resume', '{ckpt}', '--cfg-options', 'model.backbone.base_channels=16'],
     '{ckpt} does not fit the model of the config: '),
    # mmengine: a bare "epoch_length must be a positive integer, but got 0" from its schedulers
    (['{config}', '--cfg-options', 'train_dataloader.batch_size=64', 'train_dataloader.drop_last=True'],
     'train_dataloader gives no batch per epoch: 16 samples over 1 process(es), batch_size 64, drop_last True'),
    # a whole training epoch, then a metric's "no predictions were processed (is the evaluation dataset empty?)"
    (['{config}', '--cfg-options', 'val_dataloader.batch_size=100', 'val_dataloader.drop_last=True'],
     'val_dataloader gives no batch per epoch: '),
])
def test_train_bad_input_is_one_line_and_exit_2(tiny, tmp_path, capsys, argv, expected):
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'notes.pth').write_text('hello\n')
    fill = dict(config=own_leaf(tiny[1], tmp_path), tmp=tmp_path, ckpt=tiny[2] / 'epoch_2.pth')
    argv = [a.format(**fill) for a in argv]
    if '--work-dir' not in argv:
        argv += ['--work-dir', str(tmp_path / 'work')]
    try:
        code = run_tool(tool('train').main, argv, prog='train.py')
    except SystemExit as exit_info:  # argparse
        code = exit_info.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith('train.py: error: ') and expected.format(**fill) in err[0]


def _mark_ran(path):
    Path(path).write_text('code ran')


class RunsCode:
    """Unpickling it calls _mark_ran: what a malicious checkpoint's object would do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return _mark_ran, (self.path,)


@pytest.mark.parametrize('extra, checkpoint, expected', [
    # a weights-only file gave 'train.py: error: meta' (or 'epoch', 'message_hub')
    ('', 'weights', '{used} cannot be resumed: it holds no training state (meta.epoch, meta.iter, message_hub '
                    'missing; weights only?)'),
    # another optimizer gave 'error: step' (Adam's __setstate__), other parameter groups torch's line, no file
    ("optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=0.001))", '',
     "{used}: its optimizer state does not fit the config's optimizer (Adam, 1 parameter groups)"),
    ("optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))))", '',
     "{used}: its optimizer state does not fit the config's optimizer (SGD, "),
    # the same classes in another order resumed with every label standing for the other class, one log warning
    ("train_dataloader = dict(dataset=dict(classes=['1', '0']))\nval_dataloader = dict(dataset=dict(classes=['1', "
     "'0']))", '', '{used} was trained on 2 classes (0, 1) and train_dataloader.dataset has 2 (1, 0)'),
    # with torch's default turned off by its environment variable, this object's code ran on --resume
    ('', 'pickled', '{used} is not a readable checkpoint: refusing to load'),
    # a best checkpoint (no optimizer, no schedulers) resumed with fresh momentum and a restarted lr schedule
    ('', 'best', '{used} cannot be resumed: it holds no optimizer and no param_schedulers state'),
    # an epoch-based checkpoint in an iteration-based config resumed at its end, training nothing; another
    # scheduler list got the saved schedulers' states by position
    ("train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=12, val_interval=4)\nparam_scheduler = "
     "[dict(type='MultiStepLR', by_epoch=False, milestones=[8], gamma=0.1)]", '',
     '{used} was saved by a run with another training loop (epoch; this config: iteration)'),
    ("param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, T_max=2)]", '',
     "{used} was saved by a run with another param_scheduler list (['MultiStepLR']; this config: "
     "['CosineAnnealingLR'])"),
])
def test_resume_refuses_what_it_cannot_continue(tiny, tmp_path, capsys, monkeypatch, extra, checkpoint, expected):
    used = tiny[2] / 'epoch_2.pth'
    if checkpoint:
        saved = torch.load(used, weights_only=True)
        used = tmp_path / f'{checkpoint}.pth'
        if checkpoint == 'weights':
            torch.save(saved['state_dict'], used)
        elif checkpoint == 'best':  # what mmengine's CheckpointHook writes as best_*.pth
            torch.save({k: v for k, v in saved.items() if k not in ('optimizer', 'param_schedulers')}, used)
        else:
            saved['meta']['extra'] = RunsCode(str(tmp_path / 'ran'))
            torch.save(saved, used)
            monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    leaf = tmp_path / f'leaf_{tmp_path.name}.py'
    leaf.write_text(f'_base_ = [{str(tiny[1])!r}]\n{extra}\n')
    code = run_tool(tool('train').main, [str(leaf), '--resume', str(used), '--work-dir', str(tmp_path / 'w')],
                    prog='train.py')
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and expected.format(used=used) in err[0], err
    assert not (tmp_path / 'ran').exists()


def test_resume_never_runs_the_config_text_a_checkpoint_carries(tiny, tmp_path, capsys):
    # mmengine's resume ran meta['config'] through Config.fromstring (Python) to read gpu_ids; a string passes
    # weights_only, so a downloaded checkpoint could run code on --resume
    saved = torch.load(tiny[2] / 'epoch_2.pth', weights_only=True)
    saved['meta']['config'] = f"open({str(tmp_path / 'ran')!r}, 'w').write('code ran')\n"
    torch.save(saved, tmp_path / 'downloaded.pth')
    code = run_tool(tool('train').main, [str(own_leaf(tiny[1], tmp_path)), '--resume', str(tmp_path / 'downloaded.pth'),
                                         '--work-dir', str(tmp_path / 'w')], prog='train.py')
    assert code == 0 and not (tmp_path / 'ran').exists()
    captured = capsys.readouterr()
    assert "meta['config'] (an mmcv 1.x config text) is ignored on resume" in captured.out + captured.err


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU message')
def test_amp_without_gpu_is_a_clear_error(tiny, tmp_path, capsys):
    config = own_leaf(tiny[1], tmp_path)
    assert run_tool(tool('train').main, [str(config), '--amp', '--work-dir', str(tmp_path)], prog='train.py') == 2
    assert '--amp needs a CUDA GPU' in capsys.readouterr().err


@pytest.mark.parametrize('argv, expected', [
    (['{config}', '{tmp}/missing.pth'], 'CHECKPOINT: checkpoint file not found: {tmp}/missing.pth'),
    (['{config}', '{ckpt}', '--cfg-options', 'test_evaluatr.topk=1'], "'test_evaluatr' is not a top-level key"),
    (['{config}', '{ckpt}', '--show-dir', '{config}'], 'is a file'),
    # under a file: a NotADirectoryError traceback after the whole test, its metrics never printed
    (['{config}', '{ckpt}', '--show-dir', '{config}/show'], '--show-dir {config}/show cannot be created'),
    (['{config}', '{ckpt}', '--cfg-options', 'model.backbone.depth=34'], '80 backbone keys missing'),
    # a checkpoint holding more than the model (a deeper network's) loaded in part and was scored, one log line
    (['{config}', '{tmp}/extra.pth'], '{tmp}/extra.pth does not fit the model of the config: '),
    # a test split lacking a class, or classes listed in another order, scored every label as another class
    (['{config}', '{ckpt}', '--cfg-options', 'test_dataloader.dataset.data_root={tmp}/one_class'],
     '{ckpt} was trained on 2 classes (0, 1) and test_dataloader.dataset has 1 (1); they first differ at label 0'),
    (['{config}', '{ckpt}', '--cfg-options', "test_dataloader.dataset.classes=['1','0']"],
     'test_dataloader.dataset has 2 (1, 0); they first differ at label 0, so labels from there on would stand for'),
    # set again after the merge: load_strict=False was dropped without a word
    (['{config}', '{ckpt}', '--cfg-options', 'load_strict=False'], "--cfg-options ['load_strict']: test.py loads"),
])
def test_test_bad_input_is_one_line_and_exit_2(tiny, tmp_path, capsys, argv, expected):
    fill = dict(config=own_leaf(tiny[1], tmp_path), tmp=tmp_path, ckpt=tiny[2] / 'epoch_2.pth')
    (tmp_path / 'one_class' / '1').mkdir(parents=True)
    for image in (tiny[0] / 'data' / 'val' / '1').iterdir():
        (tmp_path / 'one_class' / '1' / image.name).write_bytes(image.read_bytes())
    if '{tmp}/extra.pth' in argv:
        checkpoint = torch.load(fill['ckpt'], weights_only=True)
        checkpoint['state_dict']['backbone.layer4.2.conv1.weight'] = torch.zeros(1)  # a block the model lacks
        torch.save(checkpoint, tmp_path / 'extra.pth')
    code = run_tool(tool('test').main, [a.format(**fill) for a in argv] + ['--work-dir', str(tmp_path / 'w')],
                    prog='test.py')
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and expected.format(**fill) in err[0]


def test_a_test_split_lacking_a_class_is_scored_when_given_the_training_classes(tiny, tmp_path, capsys):
    (tmp_path / 'one_class' / '1').mkdir(parents=True)
    for image in (tiny[0] / 'data' / 'val' / '1').iterdir():
        (tmp_path / 'one_class' / '1' / image.name).write_bytes(image.read_bytes())
    code = run_tool(tool('test').main, [str(own_leaf(tiny[1], tmp_path)), str(tiny[2] / 'epoch_2.pth'),
                                        '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                                        f'test_dataloader.dataset.data_root={tmp_path}/one_class',
                                        "test_dataloader.dataset.classes=['0','1']"], prog='test.py')
    assert code == 0 and 'accuracy/top1' in capsys.readouterr().out.splitlines()[-1]


def test_bad_input_from_the_command_line(tmp_path):
    done = subprocess.run([sys.executable, str(TOOLS / 'train.py'), str(tmp_path / 'nope.py')],
                          capture_output=True, text=True, env=env(), timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f'train.py: error: config file not found: {tmp_path / "nope.py"}']


DUMP_HOOK = '''
import os, torch
import torch.distributed as dist
from mmengine.hooks import Hook
from resbackbones.registry import HOOKS


@HOOKS.register_module()
class DumpRankWeights(Hook):
    """Test helper: each rank saves its own model weights after training."""
    def after_train(self, runner):
        torch.save(dict(state=runner.model.module.state_dict(), backend=dist.get_backend(),
                        world_size=dist.get_world_size()), os.path.join(runner.work_dir, f'rank{runner.rank}.pth'))
'''


@pytest.mark.slow
def test_two_processes_through_dist_train_sh_keep_identical_weights(tiny, tmp_path):
    _, config, _ = tiny
    (tmp_path / 'dump_hook.py').write_text(DUMP_HOOK)
    dist_config = tmp_path / 'dist.py'
    dist_config.write_text(f'_base_ = [{str(config)!r}]\n'
                           'model = dict(backbone=dict(norm_cfg=dict(type="SyncBN", requires_grad=True)))\n'
                           'custom_imports = dict(imports=["dump_hook"])\n'
                           'custom_hooks = [dict(type="DumpRankWeights")]\n')
    work = tmp_path / 'work'
    run_env = env(PYTHON=sys.executable, PORT=str(free_port()), CUDA_VISIBLE_DEVICES='',  # CPU, gloo
                  PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get('PYTHONPATH')])))
    done = subprocess.run(['bash', str(TOOLS / 'dist_train.sh'), str(dist_config), '2', '--work-dir', str(work)],
                          capture_output=True, text=True, env=run_env, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    out = done.stdout + done.stderr
    assert 'SyncBN fallback: converted 20 SyncBatchNorm layer(s) to BatchNorm because SyncBatchNorm needs CUDA' in out

    dumps = [torch.load(work / f'rank{r}.pth', weights_only=True) for r in (0, 1)]
    assert [(d['backend'], d['world_size']) for d in dumps] == [('gloo', 2)] * 2  # chosen by backend='auto'
    rank0, rank1 = dumps[0]['state'], dumps[1]['state']
    saved = torch.load(work / 'epoch_2.pth', weights_only=True)['state_dict']
    params = [k for k in rank0 if not k.endswith(('running_mean', 'running_var', 'num_batches_tracked'))]
    assert len(params) > 40
    assert [k for k in params if not torch.equal(rank0[k], rank1[k])] == []  # gradients were all-reduced
    assert [k for k in params if not torch.equal(rank0[k], saved[k])] == []
    # Each rank saw its own half of the data: per-process BN statistics differ (what SyncBN would share on GPUs).
    assert not torch.equal(rank0['backbone.bn1.running_mean'], rank1['backbone.bn1.running_mean'])

    test = subprocess.run(['bash', str(TOOLS / 'dist_test.sh'), str(dist_config), str(work / 'epoch_2.pth'), '2',
                           '--work-dir', str(tmp_path / 'test-work')],
                          capture_output=True, text=True, env=dict(run_env, PORT=str(free_port())), timeout=600)
    assert test.returncode == 0, (test.stdout + test.stderr)[-4000:]
    printed = [line for line in test.stdout.splitlines() if line.startswith('{"accuracy/top1"')]
    assert len(printed) == 1  # rank 0 only


def dist_train_one_epoch(config, work, option: str) -> tuple[str, dict]:
    """Two CPU processes through dist_train.sh for one epoch with one --cfg-options entry: (output, final weights);
    asserts exit status 0."""
    done = subprocess.run(['bash', str(TOOLS / 'dist_train.sh'), str(config), '2', '--work-dir', str(work),
                           '--cfg-options', option, 'train_cfg.max_epochs=1'],
                          capture_output=True, text=True, timeout=600,
                          env=env(PYTHON=sys.executable, PORT=str(free_port()), CUDA_VISIBLE_DEVICES=''))
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    return out, torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']


@pytest.mark.slow
def test_ddp_trains_a_backbone_whose_last_stage_is_not_requested(tiny, tmp_path):
    """A stage after the last of out_indices is not built: DDP would otherwise stop on parameters without grads."""
    _, state = dist_train_one_epoch(tiny[1], tmp_path / 'work', 'model.backbone.out_indices=(0,1,2)')
    assert any(k.startswith('backbone.layer3.') for k in state)
    assert not any(k.startswith('backbone.layer4.') for k in state)
    assert state['head.fc.weight'].shape[1] == 32  # the head sized from layer3 (base_channels 8 x 4)


@pytest.mark.slow
def test_ddp_with_channels_last_weights_buckets_them_as_they_are(tiny, tmp_path):
    """ChannelsLastHook's layout is set before DDP lays out its gradient buckets, so DDP copies no gradient into
    buckets of another layout (torch warns 'Grad strides do not match bucket view strides' when it must)."""
    out, state = dist_train_one_epoch(tiny[1], tmp_path / 'work', "custom_hooks=[dict(type='ChannelsLastHook')]")
    assert 'Grad strides do not match bucket view strides' not in out
    assert state['backbone.conv1.weight'].is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize('argv, check', [
    (['--resume'], lambda c: c.resume is True and c.load_from is None),
    (['--auto-scale-lr'], lambda c: c.auto_scale_lr.enable is True and c.auto_scale_lr.base_batch_size == 256),
    ([], lambda c: c.resume is False and c.auto_scale_lr.enable is False),
])
def test_train_flags_set_the_config(tiny, argv, check):
    _, config, _ = tiny
    train = tool('train')
    args = train.parse_args([str(config), *argv])
    assert check(train.apply_train_args(train.config_from_args(args), args))


@pytest.mark.parametrize('setting', ['dict(_delete_=True, enable=False)', 'None'])  # None: a bare TypeError
def test_auto_scale_lr_needs_a_base_batch_size(tiny, tmp_path, setting):
    _, config, _ = tiny
    leaf = tmp_path / 'no_base.py'
    leaf.write_text(f'_base_ = [{str(config)!r}]\nauto_scale_lr = {setting}\n')
    train = tool('train')
    args = train.parse_args([str(leaf), '--auto-scale-lr'])
    with pytest.raises(ValueError, match='no auto_scale_lr.base_batch_size'):
        train.apply_train_args(train.config_from_args(args), args)


@pytest.mark.skipif(not (REPO / 'data' / 'digits' / 'manifest.json').is_file(),
                    reason='needs the digits: python tools/data/fetch_data.py digits')
def test_demo_runs_end_to_end_and_checks_its_target(tmp_path, capsys):
    """The demo on the real digits, shortened (width 8, 2 epochs); an unreachable target makes it exit 1."""
    work = tmp_path / 'demo'
    code = tool('demo').main(['--work-dir', str(work), '--min-accuracy', '101', '--cfg-options',
                              'train_cfg.max_epochs=2', 'model.backbone.base_channels=8'])
    out, err = capsys.readouterr()
    assert code == 1 and 'is below the 101.0% target' in err
    line = next(x for x in out.splitlines() if x.startswith('held-out accuracy'))
    assert '(359 images never trained on): top-1 ' in line
    assert (work / 'curves.png').read_bytes().startswith(b'\x89PNG')
    assert (work / 'epoch_2.pth').is_file()


def test_the_metrics_line_is_strict_json():
    """An HD95 of a class absent from an image is NaN, which Python's json wrote as NaN: other parsers refuse it."""
    line = tool('test').json_line({'seg/mDice': 0.123456, 'seg/mHD95': float('nan'), 'fold': [1.0, float('inf')],
                                   'count': 3, 'x': torch.tensor(2.0)})
    assert json.loads(line) == {'seg/mDice': 0.1235, 'seg/mHD95': None, 'fold': [1.0, None], 'count': 3, 'x': 2.0}
    assert 'NaN' not in line and 'Infinity' not in line
    # per-class values and matrices stopped the tool after the whole test (a tensor's .item() of 4 elements)
    line = tool('test').json_line({'cm': torch.eye(2), 'per_class': np.array([0.5, np.nan]), 'n': np.int64(4)})
    assert json.loads(line) == {'cm': [[1.0, 0.0], [0.0, 1.0]], 'per_class': [0.5, None], 'n': 4}
