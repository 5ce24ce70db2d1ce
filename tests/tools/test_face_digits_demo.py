"""tools/demos/face_digits.py (make demo-face): the config each run trains, built without training."""
import pytest

from tests.engine.tiny import load_tool

DEMO = load_tool('demos/face_digits')


def test_epochs_and_cfg_options_change_the_committed_config(tmp_path):
    args = DEMO.parse_args(['--epochs', '3', '--cfg-options', 'model.embedding.embedding_dim=128'])
    cfg = DEMO.demo_config('cosface', 4, str(tmp_path), args.epochs, args.cfg_options)
    assert cfg.model.embedding.embedding_dim == 128 and cfg.model.margin_head.type == 'CosFaceHead'
    assert cfg.train_cfg.max_epochs == cfg.default_hooks.checkpoint.interval == 3
    assert cfg.randomness.seed == 4 and cfg.val_dataloader is None  # trains only; the test follows training
    assert cfg.test_evaluator.roc_file == str(tmp_path / 'roc.png')
    assert DEMO.demo_config('cosface', 4, str(tmp_path)).model.embedding.embedding_dim == 64  # the committed width


def test_a_mistyped_cfg_option_names_the_key():
    args = DEMO.parse_args(['--cfg-options', 'model.embeding.embedding_dim=128'])
    with pytest.raises(KeyError, match=r"model\.embeding"):
        DEMO.demo_config('arcface', 0, 'unused', options=args.cfg_options)


def test_a_relative_work_dir_is_where_the_demo_was_run(tmp_path, monkeypatch):
    # main() moves to the checkout first: the runs were written under the checkout, not here
    monkeypatch.chdir(tmp_path)
    assert DEMO.parse_args(['--work-dir', 'my_out']).work_dir == str(tmp_path / 'my_out')


def test_min_accuracy_is_a_fraction():
    with pytest.raises(SystemExit):
        DEMO.parse_args(['--min-accuracy', '85'])  # a percentage (tools/demo.py's unit) never passed


def test_an_option_one_config_cannot_take_is_named_before_any_training(tmp_path):
    # the softmax head has no margin: the demo stopped after the ArcFace and CosFace runs, keeping no results
    args = DEMO.parse_args(['--cfg-options', 'model.margin_head.margin=0.2'])
    DEMO.check_options(['arcface', 'cosface'], str(tmp_path), None, args.cfg_options)  # both take it
    with pytest.raises(ValueError, match=r'model\.margin_head\.margin=0\.2 do not fit the softmax config .*--heads'):
        DEMO.check_options(list(DEMO.HEADS), str(tmp_path), None, args.cfg_options)


@pytest.mark.parametrize('value', ['0.97', '0', '1'])
def test_the_digits_demo_takes_a_percentage(value, capsys):
    # tools/demo.py: a fraction (this demo's unit) made every run pass
    with pytest.raises(SystemExit):
        load_tool('demo').parse_args(['--min-accuracy', value])
    assert 'is a percentage (e.g. 97), not a fraction' in capsys.readouterr().err
