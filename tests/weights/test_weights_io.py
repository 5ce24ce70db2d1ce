"""Safe reading: bad files get clear errors, pickles that would run code are refused, containers are unwrapped."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch
import torchvision

from resbackbones.weights import load_pretrained, read_checkpoint
from resbackbones.weights.io import resolve_path


class _Exploit:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def _text(path):
    path.write_text('this is not a checkpoint\n')


def _truncated(path):
    torch.save({'conv1.weight': torch.zeros(8, 3, 7, 7)}, path)
    path.write_bytes(path.read_bytes()[:200])


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())


def _empty(path):
    path.write_bytes(b'')


@pytest.mark.parametrize('write', [_text, _truncated, _random_bytes, _empty])
def test_unreadable_file_is_a_clear_value_error(write, tmp_path):
    path = tmp_path / 'bad.pth'
    write(path)
    with pytest.raises(ValueError, match='bad.pth is not a readable torch checkpoint'):
        read_checkpoint(path)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        read_checkpoint(tmp_path / 'nowhere.pth')


def test_directory_is_rejected(tmp_path):
    with pytest.raises(ValueError, match='is not a file'):
        read_checkpoint(tmp_path)


@pytest.mark.parametrize('writer', ['torch.save', 'pickle protocol 2'])
def test_malicious_pickle_is_refused_without_running(writer, tmp_path, tiny_backbone):
    marker, path = tmp_path / 'pwned', tmp_path / 'evil.pth'
    payload = {'x': _Exploit(marker), 'conv1.weight': torch.zeros(1)}  # the exploit comes first
    if writer == 'torch.save':
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(ValueError, match=r'refusing to load .*evil\.pth.*(posix|nt)\.system'):
        load_pretrained(tiny_backbone(), path)
    assert not marker.exists()


def test_whole_pickled_module_is_refused_with_advice(tmp_path):
    path = tmp_path / 'module.pth'
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(ValueError, match=r'Linear.*state_dict\(\) instead'):
        read_checkpoint(path)


def test_numpy_meta_is_allowed(save):
    path = save({'state_dict': {'w': torch.ones(2)}, 'meta': {'seed': np.int64(3), 'hist': np.zeros(3)}})
    ckpt = read_checkpoint(path)
    assert ckpt.container == 'state_dict' and int(ckpt.meta['seed']) == 3
    assert torch.equal(ckpt.state['w'], torch.ones(2))


@pytest.mark.parametrize('wrap, container', [
    (lambda sd: sd, None),
    (lambda sd: {'state_dict': sd, 'meta': {'epoch': 3}}, 'state_dict'),
    (lambda sd: {'model': sd, 'epoch': 3}, 'model'),
    (lambda sd: {'state_dict': {f'module.{k}': v for k, v in sd.items()}}, 'state_dict'),
    (lambda sd: {f'module.{k}': v for k, v in sd.items()}, None),
])
def test_containers_and_ddp_prefix_are_unwrapped(wrap, container, save):
    state = {'conv1.weight': torch.randn(2, 3, 1, 1), 'fc.bias': torch.randn(2)}
    for source in (wrap(state), save(wrap(state))):  # an already-loaded dict and a file
        ckpt = read_checkpoint(source)
        assert ckpt.container == container
        assert sorted(ckpt.state) == sorted(state)
        assert all(torch.equal(ckpt.state[k], v) for k, v in state.items())


@pytest.mark.parametrize('obj, match', [
    (torch.zeros(3), 'holds a Tensor, not a state dict'),
    ({'epoch': 3, 'optimizer': {'lr': 0.1}}, "holds no state dict: expected tensors or one of the keys"),
    ({}, 'holds no'),
])
def test_objects_that_are_not_state_dicts(obj, match, save):
    with pytest.raises(ValueError, match=match):
        read_checkpoint(save(obj))


def test_wrong_argument_type():
    with pytest.raises(TypeError, match='checkpoint must be a path or a state dict'):
        read_checkpoint(42)


def test_urls_are_not_fetched():
    with pytest.raises(ValueError, match='only local files'):
        resolve_path('https://example.com/resnet18.pth')


def test_torchvision_scheme_reads_the_hub_cache_only(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r'never downloads.*resnet18-.*\.pth'):
        resolve_path('torchvision://resnet18')
    with pytest.raises(ValueError, match="unknown torchvision model 'resnet9'"):
        resolve_path('torchvision://resnet9')
    url = torchvision_url('resnet18')
    cached = tmp_path / 'checkpoints' / url.rsplit('/', 1)[-1]
    cached.parent.mkdir()
    cached.write_bytes(b'')
    assert resolve_path('torchvision://resnet18') == cached


def torchvision_url(name: str) -> str:
    from mmengine.runner.checkpoint import get_torchvision_models
    return get_torchvision_models()[name]


def test_a_read_checkpoint_can_be_saved_over_its_own_file(tmp_path):
    # its tensors were memory-mapped from the file: re-saving in place died of SIGBUS and left the file truncated
    state = torchvision.models.resnet18().state_dict()
    torch.save({'state_dict': state, 'meta': {'epoch': 1}}, tmp_path / 'r18.pth')
    ckpt = read_checkpoint(tmp_path / 'r18.pth')
    torch.save(ckpt.state, tmp_path / 'r18.pth')  # strip the container in place
    again = torch.load(tmp_path / 'r18.pth', weights_only=True)
    assert again.keys() == state.keys() and all(torch.equal(again[k], state[k]) for k in state)
