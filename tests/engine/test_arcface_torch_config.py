"""arcface_torch's edict configs become mmengine configs over our ArcFace bases, key by key; what has no
counterpart is refused by name."""
import sys

import pytest

from resbackbones.engine.arcface_torch_config import is_arcface_torch_config, read_arcface_torch_config
from resbackbones.engine.config import load_config

# Written here in the form of arcface_torch's configs/*.py (a WebFace42M-style job with a warmup and CosFace).
JOB = '''from easydict import EasyDict as edict

config = edict()
config.margin_list = (1.0, 0.0, 0.4)
config.network = "r100"
config.resume = False
config.output = None
config.embedding_size = 256
config.sample_rate = 0.2
config.fp16 = True
config.momentum = 0.9
config.weight_decay = 1e-4
config.batch_size = 64
config.lr = 0.4
config.verbose = 2000
config.dali = False
config.rec = "/train_tmp/WebFace42M"
config.num_classes = 2059906
config.num_image = 42474557
config.num_epoch = 20
config.warmup_epoch = config.num_epoch // 10
config.val_targets = ["lfw", "cfp_fp", "agedb_30"]
config.gradient_acc = 1
config.interclass_filtering_threshold = 0.4
'''


def write(tmp_path, text, name='wf42m_pfc02_r100.py'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_job_translates_key_by_key(tmp_path):
    path = write(tmp_path, JOB)
    assert is_arcface_torch_config(path)
    cfg = load_config(path)
    assert cfg.model.backbone == dict(type='IResNet', depth=100) and cfg.model.num_classes == 2059906
    assert cfg.model.embedding.embedding_dim == 256 and cfg.model.flip_test
    assert cfg.model.margin_head == dict(type='PartialFCHead', scale=64.0, margins=(1.0, 0.0, 0.4), sample_rate=0.2,
                                         interclass_filtering_threshold=0.4)
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.4, momentum=0.9, weight_decay=1e-4)
    assert 'accumulative_counts' not in cfg.optim_wrapper  # gradient_acc 1; above, refused (below)
    warmup, decay = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 2)  # num_epoch // 10, from the file's code
    assert (decay.type, decay.power, decay.begin, decay.end) == ('PolyLR', 1.0, 2, 20)
    assert cfg.train_cfg.max_epochs == 20 and cfg.randomness.seed == 2048  # base.py's seed
    assert cfg.train_dataloader.batch_size == 64 and cfg.train_dataloader.num_workers == 2
    assert cfg.train_dataloader.dataset.data_root == '/train_tmp/WebFace42M'
    assert cfg.val_dataloader.dataset.bin_file == [f'/train_tmp/WebFace42M/{name}.bin'  # each one validates
                                                   for name in ('lfw', 'cfp_fp', 'agedb_30')]
    assert cfg.default_hooks.logger.interval == 10 and cfg.default_scope == 'resbackbones'
    # train_v2.py's clip_grad_norm_(backbone.parameters(), 5): the network, not the class centres
    assert cfg.custom_hooks[1] == dict(type='PartGradClipHook', parts=('backbone', 'embedding'), max_norm=5.0)
    assert 'easydict' not in sys.modules  # the stand-in does not outlive the read


def test_adamw_and_base_defaults(tmp_path):
    path = write(tmp_path, 'from easydict import EasyDict as edict\nconfig = edict()\nconfig.optimizer = "adamw"\n'
                           'config.lr = 0.001\nconfig.weight_decay = 0.1\nconfig.rec = "/data/ms1m"\n'
                           'config.num_classes = 93431\nconfig.num_epoch = 4\nconfig.output = "out/ms1m"\n')
    job = read_arcface_torch_config(path)
    assert job['network'] == 'r50' and job['margin_list'] == (1.0, 0.5, 0.0) and job['embedding_size'] == 512
    cfg = load_config(path)
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=0.001, weight_decay=0.1)
    assert [s.type for s in cfg.param_scheduler] == ['PolyLR'] and cfg.work_dir == 'out/ms1m'


@pytest.mark.parametrize('change, message', [
    ('config.network = "mbf"', "network 'mbf' is not a ResNet"),
    ('config.dali = True', 'dali=True: DALI loading is not available'),
    ('config.optimizer = "lamb"', "optimizer must be 'sgd' or 'adamw'"),
    ('del config["rec"]', 'needs config.rec, config.num_classes and config.num_epoch'),
    ('del config["num_epoch"]', 'needs config.rec, config.num_classes and config.num_epoch'),  # a KeyError before
    ('config.warmup_epoch = 25', r'warmup_epoch must be in \[0, num_epoch=20\); got 25.0'),
    # mmengine's accumulative_counts averages the micro-batches' gradients, arcface_torch sums them: half the update
    ('config.gradient_acc = 2', 'gradient_acc=2: arcface_torch sums the gradients of its micro-batches'),
    # a bare 'not enough values to unpack', or a head error naming neither key nor file, when the model was built
    ('config.margin_list = (1.0, 0.5)', r'margin_list must be \(m1, m2, m3\) with m1 = 1.0 .*got \(1.0, 0.5\)'),
    ('config.margin_list = (1.35, 0.0, 0.0)', r'margin_list must be \(m1, m2, m3\) with m1 = 1.0'),
])
def test_settings_without_a_counterpart_are_refused_by_name(tmp_path, change, message):
    path = write(tmp_path, JOB + change + '\n')
    with pytest.raises(ValueError, match=f'{tmp_path}.*{message}'):
        load_config(path)


def test_our_configs_are_not_taken_for_arcface_torch_ones(tmp_path):
    assert not is_arcface_torch_config(write(tmp_path, "config = dict(a=1)\nmodel = dict(type='X')\n", 'ours.py'))
    assert not is_arcface_torch_config(write(tmp_path, 'def broken(:\n', 'broken.py'))


def test_fractions_of_an_epoch_of_warmup_are_kept(tmp_path):
    """arcface_torch's own configs warm up for 0.04, 0.1 or 0.5 epochs; int() made that no warmup at all."""
    cfg = load_config(write(tmp_path, JOB + 'config.warmup_epoch = 0.5\n'))
    warmup, decay = cfg.param_scheduler
    assert (warmup.type, warmup.end, decay.begin) == ('LinearLR', 0.5, 0.5) and warmup.convert_to_iter_based


def test_no_val_targets_means_no_validation(tmp_path, capsys):
    """val_targets = [] left the base's placeholder data/faces_emore/*.bin as the validation sets."""
    cfg = load_config(write(tmp_path, JOB + 'config.val_targets = []\n'))
    assert cfg.val_dataloader is None and cfg.val_cfg is None and cfg.val_evaluator is None
    assert cfg.test_dataloader is None and cfg.test_cfg is None and cfg.test_evaluator is None
    load_config(write(tmp_path, JOB + 'config.verbose = 5\n', 'verbose.py'))
    assert 'verbose=5: validation runs once per epoch here, not every 5 steps' in capsys.readouterr().out


def test_a_combined_margin_list_trains_arcface_torchs_loss(tmp_path, capsys):
    """(1, 0.3, 0.2): CombinedMarginLoss applies only m3 when m3 > 0; the translation trained cos(theta + 0.3) - 0.2."""
    cfg = load_config(write(tmp_path, JOB + 'config.margin_list = (1.0, 0.3, 0.2)\n'))
    assert cfg.model.margin_head.margins == (1.0, 0.0, 0.2)
    assert 'margin_list (1.0, 0.3, 0.2): m2 dropped, as arcface_torch applies only m3' in capsys.readouterr().out


def test_resuming_over_arcface_torchs_own_checkpoint_is_refused(tmp_path):
    # mmengine found none of its checkpoints there and trained from scratch, with one warning line
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'checkpoint_gpu_0.pt').write_bytes(b'arcface_torch state')
    path = write(tmp_path, JOB + f'config.resume = True\nconfig.output = {str(out)!r}\n')
    with pytest.raises(ValueError, match=r"resume = True: .* holds arcface_torch's checkpoint_gpu_0.pt, which cannot "
                                         r'be resumed here'):
        load_config(path)
    (out / 'epoch_3.pth').write_bytes(b'')  # one of ours beside it: resumed from ours
    assert load_config(path).resume is True


def test_the_verbose_note_is_printed_for_the_default_too(tmp_path, capsys):
    # ms1mv3_r50.py sets verbose = 2000 (the default) and arcface_torch validates that often; nothing was said
    load_config(write(tmp_path, JOB))
    assert 'verbose=2000: validation runs once per epoch here, not every 2000 steps' in capsys.readouterr().out
