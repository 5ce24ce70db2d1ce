"""--cfg-options values: mmengine's forms unchanged, dicts added, everything else one argparse error."""
import argparse

import pytest

from resbackbones.engine.cfg_options import CfgOptionsAction


def parse(*pairs: str) -> dict:
    parser = argparse.ArgumentParser(prog='tool.py')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return parser.parse_args(['--cfg-options', *pairs]).cfg_options


@pytest.mark.parametrize('pair, value', [
    ('k=1', 1), ('k=0.5', 0.5), ('k=true', True), ('k=None', None), ('k=word', 'word'),  # as mmengine reads them
    ('k=img_{:05}.jpg', 'img_{:05}.jpg'),  # braces in a string (mmaction2's filename_tmpl) are not a dict
    ('k=1,2', [1, 2]), ('k=[a,b]', ['a', 'b']), ('k=(1,[2,c])', (1, [2, 'c'])),
    ("k=[dict(type='ConstantLR', factor=1.0, by_epoch=False)]",  # mmengine's parser recursed forever on these
     [{'type': 'ConstantLR', 'factor': 1.0, 'by_epoch': False}]),
    ("k=dict(type='X', sub=dict(w=-1.5, ids=(1, 2)))", {'type': 'X', 'sub': {'w': -1.5, 'ids': (1, 2)}}),
    ("k={'a': [1, None], 'b': 'x'}", {'a': [1, None], 'b': 'x'}),
    # mmengine removed spaces (a path with one pointed elsewhere) and read a quoted '0123' as 123
    ('k=/data/my ckpts', '/data/my ckpts'), ("k='/data/my runs/x'", '/data/my runs/x'), ("k='0123'", '0123'),
    ('k="a b"', 'a b'), ('k={}.pth', '{}.pth'),  # a brace template that is no dict stays a string (was refused)
    # quoted items of a list stay strings (folder-named classes; mmengine read them as numbers)
    ("k=['1','0']", ['1', '0']), ('k=("07", 3)', ('07', 3)), ("k=[a,'b']", ['a', 'b']),
    # a path with brackets lost its spaces ('/data/dataset(1)'); 'predict(' was taken for a dict call and refused
    ('k=/data/dataset (1)', '/data/dataset (1)'), ('k=/data/My Photos (2023)/train', '/data/My Photos (2023)/train'),
    ('k=out/predict(1)', 'out/predict(1)'),
    ("k='a','b'", ['a', 'b']), ('k="0", "1"', ['0', '1']),  # read as the one string a','b
    # dicts joined by a comma were a tuple, which mmengine refuses as an evaluator (a traceback)
    ("k=dict(a=1),dict(b=2)", [{'a': 1}, {'b': 2}]), ("k=(dict(a=1),dict(b=2))", ({'a': 1}, {'b': 2})),
])
def test_values(pair, value):
    assert parse(pair) == {'k': value}


def test_pairs_accumulate_and_later_ones_win():
    assert parse('a=1', 'b=dict(c=2)', 'a=3') == {'a': 3, 'b': {'c': 2}}


@pytest.mark.parametrize('pair, message', [
    ('k', "--cfg-options 'k': expected KEY=VALUE"),
    ('=1', "--cfg-options '=1': expected KEY=VALUE"),
    ('k=[dict(type=ConstantLR)]', "--cfg-options k: cannot read the value '[dict(type=ConstantLR)]'"),  # a name
    ("k=dict(**base)", "--cfg-options k: cannot read the value 'dict(**base)'"),
    ("k=[dict(a=__import__('os'))]", "cannot read the value"),  # nothing is called but dict
    ('k=(1,2', "--cfg-options k: cannot read the value '(1,2'"),  # unbalanced: mmengine's assert
])
def test_unreadable_values_are_one_argparse_error(pair, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(pair)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and 'Traceback' not in err


@pytest.mark.parametrize('key, refused', [('train_pipeline.0.color_type', True), ('data_root', False),
                                          ('train_dataloader.dataset.pipeline.0.color_type', False)])
def test_a_variable_of_the_file_is_refused_where_the_file_copied_it(key, refused, capsys):
    """`train_pipeline.0.color_type=color` (docs/training.md's own example) trained in grey: the datasets held
    copies of the variable. Refused where the copy is found, warned where it is not (data_root went into an
    f-string), merged as before under a runner key."""
    from pathlib import Path

    from resbackbones.engine.config import load_config, merge_cfg_options
    config = Path(__file__).resolve().parents[2] / 'configs/classification/resnet18_digits.py'
    cfg = load_config(str(config))
    if refused:
        with pytest.raises(KeyError, match=r"'train_pipeline' is a variable of the config file, already copied into "
                                           r'train_dataloader.dataset.pipeline'):
            merge_cfg_options(cfg, {key: 'color'})
        return
    merge_cfg_options(cfg, {key: 'color'})
    warned = 'is not read by the runner' in capsys.readouterr().out
    assert warned is (key == 'data_root')
    if key != 'data_root':
        assert cfg.train_dataloader.dataset.pipeline[0].color_type == 'color'


@pytest.mark.parametrize('key', ['show_hook'])
def test_keys_tools_test_reads_are_not_called_unread(key, capsys):
    """`--cfg-options show_hook=SegOverlayHook` warned that the runner does not read it; tools/test.py does."""
    from pathlib import Path

    from resbackbones.engine.config import load_config, merge_cfg_options
    cfg = load_config(str(Path(__file__).resolve().parents[2] / 'configs/classification/resnet18_digits.py'))
    merge_cfg_options(cfg, {key: 'SegOverlayHook'})
    assert 'is not read by the runner' not in capsys.readouterr().out and cfg[key] == 'SegOverlayHook'


@pytest.mark.parametrize('variable, warned', [
    ('load_strict = True', False),  # read by SafeRunner: True == 1 named val_evaluator.topk.0 as its copy
    ('flag = True', True),  # equal flags and numbers sit anywhere by chance (train_cfg.by_epoch): warned, not refused
    ('classes_total = 10', True),
])
def test_scalar_variables_are_warned_about_not_placed_by_chance(tmp_path, capsys, variable, warned):
    from pathlib import Path

    from resbackbones.engine.config import load_config, merge_cfg_options
    base = Path(__file__).resolve().parents[2] / 'configs/classification/resnet18_digits.py'
    leaf = tmp_path / 'leaf.py'
    leaf.write_text(f'_base_ = [{str(base)!r}]\n{variable}\n' + ('model = dict(num_classes=classes_total)\n'
                                                                 if 'classes_total' in variable else ''))
    cfg = load_config(str(leaf))
    key = variable.split(' =')[0]
    merge_cfg_options(cfg, {key: 5})
    assert cfg[key] == 5 and ('is not read by the runner' in capsys.readouterr().out) is warned
