"""SafeRunner in one process: weights_only-safe resume, atomic saves, SyncBN fallback, loader workers stopped, EMA
kept from training to evaluation."""
import os
import sys
from pathlib import Path

import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend
from mmengine.hooks import EMAHook, Hook
from mmengine.logging import HistoryBuffer
from torch import nn
from torch.utils.data.dataloader import _MultiProcessingDataLoaderIter

from resbackbones.engine import SafeRunner
from resbackbones.engine.checkpoint_codec import TAG
from resbackbones.engine.cli import build_runner
from resbackbones.engine.config import load_config

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/engine: the shared tiny set-up
from tiny import tiny_setup  # noqa: E402


def make_runner(config, work_dir, name, **overrides):
    cfg = load_config(str(config))
    cfg.merge_from_dict(overrides)
    cfg.work_dir, cfg.experiment_name, cfg.launcher = str(work_dir), name, 'none'
    runner = build_runner(cfg)
    assert isinstance(runner, SafeRunner)
    return runner


@pytest.fixture
def config(tmp_path):
    return tiny_setup(tmp_path, max_epochs=2)


def test_checkpoints_load_with_weights_only_and_resume(config, tmp_path):
    work = tmp_path / 'work'
    make_runner(config, work, 'first').train()
    ckpt = torch.load(work / 'epoch_2.pth', weights_only=True)  # plain mmengine fails here (HistoryBuffer)
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert loss[TAG] == 'HistoryBuffer' and len(loss['log_history']) == 8  # 2 epochs x 4 iterations

    resumed = make_runner(config, work, 'resumed', resume=True, train_cfg=dict(max_epochs=3))
    resumed.train()
    assert (resumed.epoch, resumed.iter) == (3, 12)
    history = resumed.message_hub.get_scalar('train/loss')
    assert isinstance(history, HistoryBuffer) and len(history.data[0]) == 12  # the resumed history went on
    assert os.path.isfile(work / 'epoch_3.pth')


def test_a_failed_save_keeps_the_previous_checkpoint(config, tmp_path, monkeypatch):
    work = tmp_path / 'work'
    runner = make_runner(config, work, 'atomic', train_cfg=dict(max_epochs=1))
    runner.train()
    before = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']

    def put_half_then_die(self, obj, filepath):
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
        raise OSError('disk full')

    monkeypatch.setattr(LocalBackend, 'put', put_half_then_die)
    with torch.no_grad():
        next(runner.model.parameters()).add_(1.0)
    with pytest.raises(OSError, match='disk full'):
        runner.save_checkpoint(str(work), 'epoch_1.pth')
    after = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']  # complete, and the old one
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
    assert not [n for n in os.listdir(work) if '.tmp-' in n]


def test_sync_bn_falls_back_to_bn_in_one_process(config, tmp_path, capsys):
    runner = make_runner(config, tmp_path / 'work', 'syncbn',
                         model=dict(backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True))))
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in runner.model.modules())
    assert sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in runner.model.modules()) > 0
    assert 'SyncBN fallback: converted 20 SyncBatchNorm layer(s) to BatchNorm because training runs in a ' \
           'single process' in capsys.readouterr().out


def test_loader_workers_stop_when_training_and_validation_end(config, tmp_path, monkeypatch):
    started = []
    start = _MultiProcessingDataLoaderIter.__init__
    monkeypatch.setattr(_MultiProcessingDataLoaderIter, '__init__',
                        lambda self, loader: (start(self, loader), started.append(self))[0])
    workers = dict(num_workers=1, persistent_workers=True)
    runner = make_runner(config, tmp_path / 'work', 'workers', train_cfg=dict(max_epochs=1),
                         train_dataloader=workers, val_dataloader=workers)
    runner.train()  # validates after its epoch: two loaders, a worker each
    assert len(started) == 2 and not any(w.is_alive() for it in started for w in it._workers)
    metrics = runner.val()  # a later pass starts its own worker (the stopped one is forgotten), and stops it
    assert 'accuracy/top1' in metrics and len(started) == 3 and not started[2]._workers[0].is_alive()


class RecordTestWeights(Hook):
    """Keeps a copy of the model's weights as the first evaluation batch sees them (after EMAHook's swap)."""

    def _record(self, runner, batch_idx, data_batch=None):
        if batch_idx == 0:
            self.seen = {k: v.clone() for k, v in runner.model.state_dict().items()}

    before_val_iter = before_test_iter = _record


@pytest.mark.parametrize('mode', ['val', 'test'])
def test_evaluating_after_training_uses_the_ema_built_in_training(config, tmp_path, mode):
    runner = make_runner(config, tmp_path / 'work', 'ema',
                         custom_hooks=[dict(type='EMAHook', momentum=0.5, update_buffers=True)])
    runner.train()
    ema_hook = next(h for h in runner.hooks if isinstance(h, EMAHook))
    average = {k: v.clone() for k, v in ema_hook.ema_model.module.state_dict().items()}
    raw = {k: v.clone() for k, v in runner.model.state_dict().items()}
    assert not torch.equal(average['backbone.conv1.weight'], raw['backbone.conv1.weight'])
    recorder = RecordTestWeights()
    runner.register_hook(recorder, priority='LOWEST')
    getattr(runner, mode)()
    for key, value in average.items():
        assert torch.equal(recorder.seen[key], value), key  # mmengine alone evaluates `raw` here
    assert all(torch.equal(v, raw[k]) for k, v in runner.model.state_dict().items())  # swapped back after


def test_logger_out_dir_is_joined_once_when_testing_after_training(config, tmp_path):
    """mmengine's test() after train() calls LoggerHook.before_run again, which appended the work dir's name to
    out_dir a second time (logs then copied to out/work/work)."""
    out = tmp_path / 'out'
    runner = make_runner(config, tmp_path / 'work', 'logs', default_hooks=dict(logger=dict(
        type='LoggerHook', interval=1, out_dir=str(out))))
    runner.train()
    runner.test()
    logger = next(h for h in runner.hooks if type(h).__name__ == 'LoggerHook')
    assert logger.out_dir == os.path.join(str(out), 'work')
    assert (out / 'work').is_dir() and not (out / 'work' / 'work').exists()


def test_resuming_from_another_folder_deletes_none_of_its_or_the_new_folders_files(config, tmp_path):
    """mmengine joined the resumed run's kept epochs with the new work dir (deleting another run's epoch_1.pth
    there) and, on a new best, deleted the original run's best checkpoint in the original folder."""
    keep = dict(default_hooks=dict(checkpoint=dict(max_keep_ckpts=3, save_best='accuracy/top1', rule='greater')))
    first, second = tmp_path / 'first', tmp_path / 'second'
    make_runner(config, first, 'first', train_cfg=dict(max_epochs=3), **keep).train()
    [best] = [name for name in os.listdir(first) if name.startswith('best_')]
    resumed_from = torch.load(first / 'epoch_3.pth', weights_only=True)
    resumed_from['message_hub']['runtime_info']['best_score'] = -1.0  # so that the resumed run finds a new best
    torch.save(resumed_from, first / 'edited.pth')
    second.mkdir()
    (second / 'epoch_1.pth').write_bytes(b'another run')

    runner = make_runner(config, second, 'second', resume=True, load_from=str(first / 'edited.pth'),
                         train_cfg=dict(max_epochs=4), **keep)
    runner.train()
    assert (second / 'epoch_1.pth').read_bytes() == b'another run'
    assert (first / best).is_file()  # the new folder's best replaced only its own best file
    assert len([name for name in os.listdir(second) if name.startswith('best_')]) == 1
    assert runner.message_hub.get_info('keep_ckpt_ids') == [4]

    again = make_runner(config, second, 'again', resume=True, train_cfg=dict(max_epochs=5), **keep)
    again.train()  # from its own folder, the records hold: epoch_4 is kept beside epoch_5
    assert again.message_hub.get_info('keep_ckpt_ids') == [4, 5] and (second / 'epoch_4.pth').is_file()


@pytest.mark.parametrize('container', ['state_dict', 'model'])
def test_load_from_reads_the_weights_under_either_container(config, tmp_path, container):
    """read_checkpoint takes 'model' as well as 'state_dict'; mmengine's loader looked only under 'state_dict' and
    loaded nothing of a {'model': ...} file, with a warning."""
    source = make_runner(config, tmp_path / 'work', 'source')
    torch.manual_seed(1)
    state = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in source.model.state_dict().items()}
    torch.save({container: state}, tmp_path / 'weights.pth')
    runner = make_runner(config, tmp_path / 'work', 'loaded', load_from=str(tmp_path / 'weights.pth'))
    runner.load_or_resume()
    loaded = runner.model.state_dict()
    assert [k for k in state if not torch.equal(loaded[k], state[k])] == []


@pytest.mark.parametrize('fail', [False, True])
def test_old_checkpoints_are_removed_only_once_the_next_is_written(config, tmp_path, fail):
    # CheckpointHook removed the oldest kept (and the previous best) checkpoint before writing the next one: a
    # failed save left no checkpoint at all with max_keep_ckpts=1, and no best checkpoint with the defaults
    class DiskFullAtEpoch2(Hook):
        def before_save_checkpoint(self, runner, checkpoint):
            if fail and runner.epoch == 1:  # the save that ends epoch 2 (the counter moves on after it)
                raise OSError('disk full')

    work = tmp_path / 'work'
    runner = make_runner(config, work, f'keep{fail}', default_hooks=dict(checkpoint=dict(max_keep_ckpts=1)))
    runner.register_hook(DiskFullAtEpoch2())
    if fail:
        with pytest.raises(OSError, match='disk full'):
            runner.train()
        assert sorted(p.name for p in work.glob('*.pth')) == ['epoch_1.pth']
        torch.load(work / 'epoch_1.pth', weights_only=True)  # whole
    else:
        runner.train()
        assert sorted(p.name for p in work.glob('*.pth')) == ['epoch_2.pth']


def test_a_removal_never_takes_the_file_just_written(tmp_path):
    from mmengine.fileio import LocalBackend

    from resbackbones.engine.deferred_removal import DeferredRemovals
    old, new = tmp_path / 'best_epoch_1.pth', tmp_path / 'best_epoch_2.pth'
    old.write_text('old')
    new.write_text('new')
    backend = DeferredRemovals(LocalBackend())
    backend.remove(str(old))
    backend.remove(str(new))  # queued before the same name was written again
    assert old.exists() and backend.isfile(str(old))
    backend.carry_out(str(new))
    assert not old.exists() and new.read_text() == 'new' and not backend.queued


@pytest.mark.parametrize('load_strict', [False, True])
def test_load_from_a_foreign_file_with_another_head_fine_tunes_unless_strict(config, tmp_path, load_strict):
    """A torchvision ImageNet classifier as load_from for a 2-class run: the backbone loads and the head starts
    afresh, as mmengine's load_from (it was refused, so mmaction2's fine-tuning configs could not start); a test
    (tools/test.py sets load_strict) still refuses to score the partly random model."""
    import torchvision
    theirs = torchvision.models.resnet18(num_classes=1000)
    torch.save(theirs.state_dict(), tmp_path / 'tv1000.pth')
    runner = make_runner(config, tmp_path / 'work', 'tuned', load_from=str(tmp_path / 'tv1000.pth'),
                         model=dict(backbone=dict(base_channels=64, in_channels=3, small_stem=False)),
                         load_strict=load_strict)
    head = runner.model.head.fc.weight.detach().clone()
    if load_strict:
        with pytest.raises(ValueError, match='tv1000.pth: torchvision checkpoint .* only in part'):
            runner.load_or_resume()
        return
    runner.load_or_resume()
    torch.testing.assert_close(runner.model.backbone.layer4[1].conv2.weight, theirs.layer4[1].conv2.weight)
    assert torch.equal(runner.model.head.fc.weight, head)


def test_resume_refuses_another_epoch_length_under_an_iteration_schedule(config, tmp_path):
    """A schedule converted to iterations saves begin/end in the saving run's iterations: resumed on twice the
    processes (or batch), the lr reached its end halfway through and stayed there (0 for the last 3 of 6
    iterations of a 2-rank PolyLR run resumed in one process). Epoch-counted schedules are unaffected."""
    schedule = [dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=3, convert_to_iter_based=True)]
    work = tmp_path / 'work'
    make_runner(config, work, 'first', param_scheduler=schedule, train_cfg=dict(max_epochs=1)).train()
    saved = torch.load(work / 'epoch_1.pth', weights_only=True)['meta']['train_schedule']
    assert saved['iters_per_epoch'] == 4
    resumed = make_runner(config, work, 'resumed', param_scheduler=schedule, resume=True,
                          train_dataloader=dict(batch_size=8), train_cfg=dict(max_epochs=3))
    with pytest.raises(ValueError, match='was saved by a run of 4 iterations per epoch; this run has 2'):
        resumed.train()
    same = make_runner(config, work, 'same', param_scheduler=schedule, resume=True, train_cfg=dict(max_epochs=2))
    same.train()
    assert same.iter == 8
