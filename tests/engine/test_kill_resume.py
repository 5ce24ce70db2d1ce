"""Kill a training run with SIGKILL (after a checkpoint, and in the middle of writing one), resume it with
tools/train.py --resume, and compare with an uninterrupted run under the same seed (CPU, num_workers=0, no random
augmentation): the final weights and optimizer state must be bit-identical.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/engine: the shared tiny set-up
from tiny import REPO, tiny_setup  # noqa: E402

pytestmark = pytest.mark.slow

STALL_HOOK = '''
import os, time
from mmengine.fileio.backends.local_backend import LocalBackend
from mmengine.hooks import Hook
from resbackbones.registry import HOOKS


def _stall():
    open(os.environ['STALL_MARKER'], 'w').close()
    time.sleep(600)  # the test kills us here


@HOOKS.register_module()
class StallAfterEpoch(Hook):
    """After the checkpoint of epoch STALL_AFTER_EPOCH is saved, hang."""
    priority = 'LOWEST'

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == int(os.environ.get('STALL_AFTER_EPOCH', -1)):
            _stall()


_put = LocalBackend.put


def put(self, obj, filepath):
    """With STALL_IN_SAVE=N: write half of epoch_N.pth, flush it to disk, hang."""
    target = f"epoch_{os.environ.get('STALL_IN_SAVE')}.pth"
    if os.environ.get('STALL_IN_SAVE') and target in os.path.basename(filepath):
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
            f.flush()
            os.fsync(f.fileno())
        _stall()
    return _put(self, obj, filepath)


LocalBackend.put = put
'''


def train(config, work, *extra, env=None, wait=True):
    cmd = [sys.executable, str(REPO / 'tools' / 'train.py'), str(config), '--work-dir', str(work), *extra]
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def kill_when_stalled(proc, marker: Path, timeout: float = 400) -> None:
    deadline = time.time() + timeout
    while not marker.exists():
        assert proc.poll() is None, f'training exited ({proc.returncode}) before reaching the stall point'
        assert time.time() < deadline, 'training never reached the stall point'
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL


def load(path):
    return torch.load(path, weights_only=True)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('kill')
    (tmp / 'stall_hook.py').write_text(STALL_HOOK)
    config = tiny_setup(tmp, max_epochs=3, extra='custom_imports = dict(imports=["stall_hook"])\n'
                        'custom_hooks = [dict(type="EvalProgressHook"), dict(type="StallAfterEpoch")]')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tmp), os.environ.get('PYTHONPATH')])),
               OMP_NUM_THREADS='1')
    train(config, tmp / 'reference', env=env)
    return tmp, config, env, load(tmp / 'reference' / 'epoch_3.pth')


def assert_same_run(resumed: dict, reference: dict) -> None:
    assert resumed['meta']['epoch'] == 3 and resumed['meta']['iter'] == 12
    assert resumed['state_dict'].keys() == reference['state_dict'].keys()
    different = [k for k, v in reference['state_dict'].items() if not torch.equal(resumed['state_dict'][k], v)]
    assert not different, f'weights differ from the uninterrupted run: {different[:5]}'
    for ours, theirs in zip(resumed['optimizer']['state'].values(), reference['optimizer']['state'].values()):
        assert torch.equal(ours['momentum_buffer'], theirs['momentum_buffer'])
    losses = resumed['message_hub']['log_scalars']['train/loss']['log_history']
    assert len(losses) == 12 and torch.isfinite(losses).all()


def test_sigkill_after_a_checkpoint_then_resume_matches_uninterrupted_run(setup):
    tmp, config, env, reference = setup
    work, marker = tmp / 'killed', tmp / 'stalled-after-epoch'
    proc = train(config, work, env=dict(env, STALL_AFTER_EPOCH='1', STALL_MARKER=str(marker)), wait=False)
    kill_when_stalled(proc, marker)
    assert (work / 'last_checkpoint').read_text().strip() == str(work / 'epoch_1.pth')
    assert not (work / 'epoch_2.pth').exists()

    log = train(config, work, '--resume', env=env)
    assert 'resumed epoch: 1, iter: 4' in log
    assert_same_run(load(work / 'epoch_3.pth'), reference)


def test_sigkill_while_writing_a_checkpoint_leaves_the_previous_one_intact(setup):
    tmp, config, env, reference = setup
    work, marker = tmp / 'killed-in-save', tmp / 'stalled-in-save'
    proc = train(config, work, env=dict(env, STALL_IN_SAVE='2', STALL_MARKER=str(marker)), wait=False)
    kill_when_stalled(proc, marker)
    half_written = [p for p in work.iterdir() if p.name.startswith('.epoch_2.pth.tmp-')]
    assert len(half_written) == 1 and half_written[0].stat().st_size > 0
    assert not (work / 'epoch_2.pth').exists()  # plain mmengine would leave a truncated epoch_2.pth here
    assert load(work / 'epoch_1.pth')['meta']['epoch'] == 1

    log = train(config, work, '--resume', env=env)
    assert 'resumed epoch: 1, iter: 4' in log and f'removed {half_written[0]}' in log
    assert not half_written[0].exists()
    assert_same_run(load(work / 'epoch_3.pth'), reference)
