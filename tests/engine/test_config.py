import io

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from resbackbones.engine.config import (check_cfg_options, default_work_dir, load_config, merge_cfg_options,
                                        model_config)


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text("model = dict(backbone=dict(depth=18, out_indices=(3,)), num_classes=10)\n"
                    "train_cfg = dict(max_epochs=3, milestones=[2, 3])\n"
                    "pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]\n")
    return Config.fromfile(str(path))


@pytest.mark.parametrize('options, check', [
    ({'train_cfg.max_epochs': 5}, lambda c: c.train_cfg.max_epochs == 5),
    ({'model.backbone.frozen_stages': 2}, lambda c: c.model.backbone.frozen_stages == 2),  # new leaf key: allowed
    ({'num_classes': 3, 'model.num_classes': 4}, None),  # 'num_classes' is not top-level: rejected below
    # runner keys a file leaves to their default (docs/training.md's example was refused)
    ({'work_dir': '/data/my runs', 'launcher': 'none'}, lambda c: c.work_dir == '/data/my runs'),
])
def test_accepted_overrides_are_merged(cfg, options, check):
    if check is None:
        with pytest.raises(KeyError):
            merge_cfg_options(cfg, options)
        return
    assert check(merge_cfg_options(cfg, options))


@pytest.mark.parametrize('key, message', [
    ('max_epochs', "'max_epochs' is not a top-level key"),
    ('trian_cfg.max_epochs', "'trian_cfg' is not a top-level key"),
    ('model.backbon.depth', "'model.backbon' does not exist"),
    ('model.backbone.depth.x', "'model.backbone.depth' is a int, not a dict"),
    ('pipeline.5.type', "'pipeline.5' does not exist"),
    # mmengine's merge failed on these with a bare TypeError, or turned the tuple into a dict
    ('pipeline.-1.type', 'pipeline is a list of 2; only list items at an index 0..1 can be set one by one'),
    ('model.backbone.out_indices.0', 'model.backbone.out_indices is a tuple of 1; only list items'),
    # a word under a list: mmengine's 'list indices must be integers or slices, not str'
    ('pipeline.type', 'pipeline is a list of 2; only list items at an index 0..1 can be set one by one (e.g. '
                      'pipeline.0.type=...)'),
    ('pipeline.first.type', 'pipeline is a list of 2; only list items'),
])
def test_unknown_keys_are_rejected_by_name(cfg, key, message):
    with pytest.raises(KeyError) as err:
        check_cfg_options(cfg, {key: 1})
    assert message in err.value.args[0] and key in err.value.args[0]


def test_list_items_can_be_overridden_by_index(cfg):
    merge_cfg_options(cfg, {'pipeline.0.color_type': 'grayscale'})
    assert cfg.pipeline[0].color_type == 'grayscale'


@pytest.mark.parametrize('key, value, message', [
    # mmengine's merge failed with "'float' object has no attribute 'copy'" / "'NoneType' ... 'items'"
    ('train_cfg.milestones.0', 1, 'train_cfg.milestones is a list and its item 0 is 2'),
    ('pipeline.0', None, 'only a dict item can be changed one by one, with a dict'),
    ('pipeline.7', {'type': 'X'}, 'pipeline is a list and it has 2 items'),
])
def test_list_items_that_mmengine_cannot_merge_are_named(cfg, key, value, message):
    with pytest.raises(KeyError) as err:
        check_cfg_options(cfg, {key: value})
    assert message in err.value.args[0] and 'Give the list whole instead' in err.value.args[0]


@pytest.mark.parametrize('content, error, message', [
    (None, FileNotFoundError, 'config file not found'),
    ('x = (', ValueError, 'cannot be loaded'),
    ("_base_ = ['missing.py']", ValueError, 'cannot be loaded'),
])
def test_bad_config_files_name_the_file(tmp_path, content, error, message):
    path = tmp_path / 'bad.py'
    if content is not None:
        path.write_text(content)
    with pytest.raises(error) as err:
        load_config(str(path))
    assert message in str(err.value) and str(path) in str(err.value)


def test_non_python_config_is_rejected(tmp_path):
    path = tmp_path / 'cfg.yaml'
    path.write_text('a: 1')
    with pytest.raises(ValueError, match='Python config'):
        load_config(str(path))


def test_default_work_dir():
    assert default_work_dir('configs/classification/resnet18_digits.py') == 'work_dirs/resnet18_digits'


@pytest.mark.parametrize('runtime, runner, backend', [
    ("default_scope = 'mmaction'\nenv_cfg = dict(dist_cfg=dict(backend='nccl'))\n", 'SafeRunner', 'auto'),
    ("default_scope = 'mmaction'\nrunner_type = 'Runner'\nenv_cfg = dict(dist_cfg=dict(backend='gloo'))\n",
     'Runner', 'gloo'),
])
def test_an_mmaction2_config_runs_on_our_registries(tmp_path, runtime, runner, backend, capsys, monkeypatch):
    path = tmp_path / 'mma.py'
    path.write_text(runtime + "model = dict(type='Recognizer2D')\n")
    earlier_run = io.StringIO()  # a previous run's logger is mmengine's current one: the notice must not go there
    for handler in MMLogger.get_instance(f'earlier_run_{runner}').handlers:
        monkeypatch.setattr(handler, 'stream', earlier_run)
    cfg = load_config(str(path))
    assert cfg.default_scope == 'resbackbones' and cfg.runner_type == runner
    assert cfg.env_cfg.dist_cfg.backend == backend
    assert cfg.model.type == 'Recognizer2D'
    assert f"{path} is a mmaction2 config; running it here with default_scope 'mmaction' -> 'resbackbones'" in \
        capsys.readouterr().out and not earlier_run.getvalue()


def test_other_scopes_are_left_alone(tmp_path):
    path = tmp_path / 'other.py'
    path.write_text("default_scope = 'mmdet'\nenv_cfg = dict(dist_cfg=dict(backend='nccl'))\n")
    cfg = load_config(str(path))
    assert cfg.default_scope == 'mmdet' and 'runner_type' not in cfg and cfg.env_cfg.dist_cfg.backend == 'nccl'


@pytest.mark.parametrize('model, named', [
    ("dict(type='Recognizer3D', backbone=dict(type='X3D', gamma_w=1))", "model.backbone: mmaction2's 'X3D' is not "
                                                                         'provided here: X3D'),
    ("dict(type='RecognizerGCN', backbone=dict(type='STGCN'))", "model: mmaction2's 'RecognizerGCN'"),
    ("dict(type='Recognizer2D', backbone=dict(type='torchvision.densenet161'))",
     "model.backbone: mmaction2's 'torchvision.densenet161' is not provided here: torchvision models by name"),
])
def test_mmaction2_types_not_built_here_say_why(tmp_path, model, named):
    path = tmp_path / 'unprovided.py'
    path.write_text(f"default_scope = 'mmaction'\nmodel = {model}\n")
    with pytest.raises(ValueError, match=f'config unprovided.py, {named}'):
        load_config(str(path))


def test_gcn_pipeline_transforms_say_why(tmp_path):
    """A GCN config's pipeline read as a typo: 'GenSkeFeat is not in the resbackbones::transform registry'."""
    path = tmp_path / 'gcn.py'
    path.write_text("default_scope = 'mmaction'\ntrain_pipeline = [dict(type='GenSkeFeat', feats=['j'])]\n")
    with pytest.raises(ValueError, match=r"train_pipeline\[0\]: mmaction2's 'GenSkeFeat' is not provided here: a "
                                         'transform of the graph-convolution skeleton pipeline'):
        load_config(str(path))


def test_a_data_loader_that_is_not_a_dict_is_named(tmp_path):
    path = tmp_path / 'comma.py'  # mmaction2's gym-limb PoseC3D config has this stray comma
    path.write_text("train_dataloader = dict(batch_size=2, dataset=dict(type='PoseDataset')),\n")
    with pytest.raises(ValueError, match=r'comma.py: train_dataloader must be a dict.*got a tuple \(a trailing comma'):
        load_config(str(path))


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmcls'])
def test_an_mmpretrain_config_is_named_when_loaded(tmp_path, scope):
    # an mmpretrain config failed later on UniversalVisualizer or an unexpected 'neck', after registry warnings
    path = tmp_path / 'theirs.py'
    path.write_text(f"default_scope = {scope!r}\nmodel = dict(type='ImageClassifier')\n")
    with pytest.raises(ValueError, match=f"theirs.py: default_scope '{scope}' is mmpretrain.*, whose configs do not"):
        load_config(str(path))


def test_model_config_takes_a_top_level_preprocessor_as_the_runner_does():
    pre = dict(type='ImgDataPreprocessor', mean=[1.0], std=[2.0])
    assert model_config(dict(model=dict(type='M'), data_preprocessor=pre)) == dict(type='M', data_preprocessor=pre)
    own = dict(type='M', data_preprocessor=dict(type='Own'))  # the model's own wins, as in mmengine's Runner
    assert model_config(dict(model=own, data_preprocessor=pre)) is own
    assert model_config(dict(model=dict(type='M'))) == dict(type='M')


def test_a_loader_given_as_a_list_by_cfg_options_is_named(tmp_path):
    """Checked in the file only: given whole here, mmengine stopped in an AttributeError ('list' ... 'dataset')."""
    path = tmp_path / 'loaders.py'
    path.write_text("val_dataloader = dict(batch_size=2, dataset=dict(type='X'))\n")
    with pytest.raises(ValueError, match=r'loaders.py with --cfg-options: val_dataloader must be a dict\(batch_size'):
        merge_cfg_options(Config.fromfile(str(path)), {'val_dataloader': [dict(batch_size=2), dict(batch_size=2)]})
