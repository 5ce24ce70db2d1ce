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
