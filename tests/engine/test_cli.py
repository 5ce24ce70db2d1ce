import pytest
from mmengine.runner.base_loop import BaseLoop

from resbackbones.engine.cli import ToolParser, one_line, raised_in_a_loop, run_tool


@pytest.mark.parametrize('err, text', [
    (KeyError('--cfg-options x: missing'), '--cfg-options x: missing'),
    (ValueError('line one\n  line two'), 'line one line two'),
    (FileNotFoundError(), 'FileNotFoundError'),
])
def test_one_line(err, text):
    assert one_line(err) == text


@pytest.mark.parametrize('err', [FileNotFoundError('config file not found: x.py'), KeyError('bad key'),
                                 ValueError('bad\nvalue'), TypeError('bad type')])
def test_user_errors_become_one_line_and_exit_2(err, capsys, monkeypatch):
    monkeypatch.delenv('RESBACKBONES_DEBUG', raising=False)

    def main(argv):
        raise err

    assert run_tool(main, [], prog='tool.py') == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith('tool.py: error: ')


def test_debug_env_shows_the_traceback(monkeypatch):
    monkeypatch.setenv('RESBACKBONES_DEBUG', '1')

    def main(argv):
        raise ValueError('boom')

    with pytest.raises(ValueError, match='boom'):
        run_tool(main, [])


def test_other_errors_are_not_hidden():
    def main(argv):
        raise RuntimeError('a bug')

    with pytest.raises(RuntimeError):
        run_tool(main, [])


class FailingLoop(BaseLoop):
    def __init__(self, error: Exception):
        super().__init__(runner=None, dataloader=[])
        self.error = error

    def run(self):
        raise self.error


@pytest.mark.parametrize('error', [TypeError('bad operand deep in a head'), KeyError('missing key mid-run')])
def test_user_error_types_inside_a_loop_keep_their_traceback(error):
    def main(argv):
        FailingLoop(error).run()

    with pytest.raises(type(error)):
        run_tool(main, [])
    assert raised_in_a_loop(error)


def test_parser_errors_are_one_line(capsys):
    parser = ToolParser(prog='tool.py')
    parser.add_argument('config')
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args([])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and 'config' in lines[0] and lines[0].startswith('tool.py: error:')
