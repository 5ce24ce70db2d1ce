"""tools/benchmark_cpu_training.py on a tiny U-Net pair: the variant's switches act, both train, a ratio comes back."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from resbackbones.engine.cpu_amp import CPUAmpOptimWrapper

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools'))
import benchmark_cpu_training  # noqa: E402

TINY = {'model.backbone.depth': 18, 'model.backbone.base_channels': 8,
        'model.decoder.decoder_channels': (32, 16, 8, 8, 8), 'train_dataloader.batch_size': 2}
PAIR = [str(REPO / 'configs/unet/unet_r34_nuclei.py'), str(REPO / 'configs/unet/unet_r34_nuclei_bf16.py')]


def test_variant_is_built_with_its_switches(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)  # the configs' data_root is relative to the repository
    plain = benchmark_cpu_training.build(PAIR[0], TINY, str(tmp_path / 'a'))
    # a hook of the config acts before timing (the Mask R-CNN switch's ChannelsLastHook, given to the U-Net here)
    switched = benchmark_cpu_training.build(PAIR[1], {**TINY, 'custom_hooks': [dict(type='ChannelsLastHook')]},
                                            str(tmp_path / 'b'))
    assert type(plain).__name__ == 'SafeRunner'  # the config's runner_type, as tools/train.py builds it (env_cfg)
    assert not isinstance(plain.optim_wrapper, CPUAmpOptimWrapper)
    assert isinstance(switched.optim_wrapper, CPUAmpOptimWrapper)
    assert switched.optim_wrapper.optimizer.defaults['fused'] and not plain.optim_wrapper.optimizer.defaults['fused']
    weights = [p for p in switched.model.parameters() if p.dim() == 4]
    assert weights and all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
    assert not all(p.is_contiguous(memory_format=torch.channels_last) for p in plain.model.parameters()
                   if p.dim() == 4 and p.shape[-1] > 1)
    data = benchmark_cpu_training.batches(plain, 3)
    assert len(data) == 3 and data[0]['inputs'][0].shape[-2:] == (128, 128)


@pytest.mark.parametrize('with_loading', [False, True])
def test_main_times_both_and_reports_the_ratio(with_loading, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    options = [f'{k}={list(v) if isinstance(v, tuple) else v}'.replace(' ', '') for k, v in TINY.items()]
    argv = PAIR + ['--rounds', '2', '--steps', '1', '--warmup', '0', '--threads', '1', '--cfg-options', *options,
                   'train_dataloader.num_workers=1', '--baseline-options', 'optim_wrapper.optimizer.lr=0.5']
    built, fetched = {}, {}
    real_build, real_time_iterations = benchmark_cpu_training.build, benchmark_cpu_training.time_iterations

    def recording_build(config, overrides, work_dir, keep_workers=False):
        runner = real_build(config, overrides, work_dir, keep_workers)
        built[Path(config).name] = (runner.optim_wrapper.optimizer.param_groups[0]['lr'],
                                    runner.cfg.train_dataloader.num_workers)
        return runner

    def recording_iterations(runner, loader, count):
        fetched.setdefault(runner.cfg.filename, []).append(loader.loader.num_workers)  # the config's own loader
        return real_time_iterations(runner, loader, count)

    monkeypatch.setattr(benchmark_cpu_training, 'build', recording_build)
    monkeypatch.setattr(benchmark_cpu_training, 'time_iterations', recording_iterations)
    argv += ['--with-loading'] if with_loading else []
    assert benchmark_cpu_training.main(argv) == 0
    workers = 1 if with_loading else 0
    assert built == {'unet_r34_nuclei.py': (0.5, workers), 'unet_r34_nuclei_bf16.py': (1e-3, workers)}
    assert sorted(len(v) for v in fetched.values()) == ([2, 2] if with_loading else [])
    assert all(v == [1, 1] for v in fetched.values())
    out = capsys.readouterr().out
    assert ('s per iteration (loading + step)' in out) is with_loading
    result = json.loads(out.strip().splitlines()[-1])
    assert result['baseline_s_per_step'] > 0 and result['variant_s_per_step'] > 0
    assert result['speedup_min'] <= result['speedup'] <= result['speedup_max']
    assert result['with_loading'] is with_loading


@pytest.mark.parametrize('extra, message', [(['--rounds', '0'], '--rounds must be >= 1'),
                                            (['--warmup', '-1'], '--warmup must be >= 0')])
def test_bad_arguments_are_named(extra, message, capsys):
    with pytest.raises(SystemExit):
        benchmark_cpu_training.main(PAIR + extra)
    assert message in capsys.readouterr().err


def test_missing_config_is_named(capsys):
    with pytest.raises(SystemExit):
        benchmark_cpu_training.main([PAIR[0], 'configs/nope.py'])
    assert 'config not found: configs/nope.py' in capsys.readouterr().err


def test_a_loader_without_batches_is_named_instead_of_spinning():
    # a set smaller than one batch with drop_last=True: `while len(out) < count` never ended
    from types import SimpleNamespace
    from mmengine.config import ConfigDict
    runner = SimpleNamespace(cfg=SimpleNamespace(train_dataloader=ConfigDict(batch_size=8, drop_last=True)),
                             build_dataloader=lambda cfg: EmptyLoader([0, 1, 2]))
    with pytest.raises(ValueError, match=r'train_dataloader yields no batch \(batch_size 8, drop_last True, 3 samples'):
        benchmark_cpu_training.batches(runner, 4)


class EmptyLoader:
    def __init__(self, dataset):
        self.dataset = dataset

    def __iter__(self):
        return iter(())


def test_iterations_with_loading_run_on_into_the_next_epoch():
    """--with-loading with more iterations than one epoch has batches stopped with a bare StopIteration."""
    class Sampler:
        def __init__(self):
            self.epochs = []

        def set_epoch(self, epoch):
            self.epochs.append(epoch)

    class TwoPerEpoch:
        """A loader whose epoch e holds the batches 2e + 1 and 2e + 2."""
        def __init__(self):
            self.sampler, self.dataset = Sampler(), [0, 1, 2, 3]

        def __iter__(self):
            first = 2 * len(self.sampler.epochs) + 1
            return iter([first, first + 1])
    loader = TwoPerEpoch()
    endless = benchmark_cpu_training.Endless(loader)
    assert [next(endless) for _ in range(5)] == [1, 2, 3, 4, 5] and loader.sampler.epochs == [1, 2]
