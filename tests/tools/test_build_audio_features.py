"""tools/data/build_audio_features.py: videos with sound -> .npy spectrograms and an AudioDataset list that the
audio pipeline reads; a video without sound stops the run by name or, asked, is skipped; --resume keeps files."""
import sys
from pathlib import Path

import numpy as np
import pytest

from resbackbones.datasets import AudioDataset
from resbackbones.engine.cli import run_tool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'engine'))  # tests/engine: tiny
from tiny import load_tool, run_tool_here  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: video_fixtures
from video_fixtures import write_tone_mp4  # noqa: E402

PIPELINE = [dict(type='LoadAudioFeature'), dict(type='SampleFrames', clip_len=4, num_clips=1, test_mode=True),
            dict(type='AudioFeatureSelector', fixed_length=16), dict(type='FormatAudioShape'),
            dict(type='PackActionInputs')]


def test_a_video_list_gives_features_and_a_list_the_audio_pipeline_reads(tmp_path, capsys):
    src = tmp_path / 'videos'
    for name, hz in (('low/a', 300), ('high/b', 3000)):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        write_tone_mp4(src / f'{name}.mp4', tone_hz=hz)
    write_tone_mp4(src / 'mute.mp4', with_audio=False)
    (tmp_path / 'train_list.txt').write_text('low/a.mp4 0\nhigh/b.mp4 1\nmute.mp4 1\n')
    out = run_tool_here('data/build_audio_features', capsys, src, tmp_path / 'feats', '--ann-file',
                        tmp_path / 'train_list.txt', '--on-invalid', 'skip')
    assert '2 files -> ' in out and '(1 skipped)' in out
    listed = (tmp_path / 'feats' / 'train_list_audio_features.txt').read_text().splitlines()
    assert listed == ['low/a.npy 8 0', 'high/b.npy 8 1']  # 8 video frames each; the mute video left out
    data = AudioDataset(str(tmp_path / 'feats' / 'train_list_audio_features.txt'),
                        data_prefix=dict(audio=str(tmp_path / 'feats')), pipeline=PIPELINE, test_mode=True)
    low, high = (data[i]['inputs'][0, 0].numpy() for i in range(2))
    assert low.shape == high.shape == (16, 80)
    assert low.mean(0).argmax() < high.mean(0).argmax()  # the 300 Hz tone sits in a lower mel band than 3 kHz


def test_a_video_without_sound_stops_the_run_and_resume_keeps_written_files(tmp_path, capsys):
    src = tmp_path / 'videos'
    src.mkdir()
    write_tone_mp4(src / 'a.mp4')
    write_tone_mp4(src / 'z_mute.mp4', with_audio=False)
    tool = load_tool('data/build_audio_features').main
    args = [str(src), str(tmp_path / 'feats'), '--level', '1']
    assert run_tool(tool, args, prog='build_audio_features.py') == 2
    assert 'z_mute.mp4' in capsys.readouterr().err and not (tmp_path / 'feats' / 'z_mute.npy').exists()
    np.save(tmp_path / 'feats' / 'a.npy', np.zeros((3, 80), np.float32))
    (src / 'z_mute.mp4').unlink()
    run_tool_here('data/build_audio_features', capsys, *args, '--resume')
    assert np.load(tmp_path / 'feats' / 'a.npy').shape == (3, 80)  # kept, not recomputed


def test_a_list_path_outside_the_source_folder_is_refused_by_line(tmp_path, capsys):
    (tmp_path / 'src').mkdir()
    (tmp_path / 'list.txt').write_text('../elsewhere/a.mp4 0\n')
    code = run_tool(load_tool('data/build_audio_features').main, [str(tmp_path / 'src'), str(tmp_path / 'out'),
                                                                  '--ann-file', str(tmp_path / 'list.txt')],
                    prog='build_audio_features.py')
    assert code == 2 and "list.txt, line 1: '../elsewhere/a.mp4' must be a path under SRC_FOLDER" in \
        capsys.readouterr().err


def test_a_missing_file_is_named_as_missing_and_an_all_skipped_list_is_still_written(tmp_path, capsys):
    (tmp_path / 'src').mkdir()
    (tmp_path / 'list.txt').write_text('cls/missing.mp4 0\n')
    tool, args = load_tool('data/build_audio_features').main, [str(tmp_path / 'src'), str(tmp_path / 'out'),
                                                               '--ann-file', str(tmp_path / 'list.txt')]
    assert run_tool(tool, args, prog='build_audio_features.py') == 2
    assert 'missing.mp4: file not found' in capsys.readouterr().err  # was "no video frames to count"
    # every file skipped and OUT_FOLDER new: the error named a temporary file in a folder never made
    assert run_tool(tool, args + ['--on-invalid', 'skip'], prog='build_audio_features.py') == 0
    assert (tmp_path / 'out' / 'list_audio_features.txt').read_text() == '\n'


@pytest.mark.parametrize('tool, prog', [('data/build_audio_features', 'build_audio_features.py'),
                                        ('data/build_rawframes', 'build_rawframes.py')])
@pytest.mark.parametrize('lines', ['cls/a.mp4 0\ncls/b.mp4 1\ncls/a.avi 1\n',
                                   'cls/a.mp4 0\ncls/b.mp4 1\ncls/a.mp4 0\n'])
def test_two_lines_writing_one_output_are_refused_by_line(tmp_path, capsys, tool, prog, lines):
    # the second video overwrote the first's output, and both lines were listed with their labels
    (tmp_path / 'src').mkdir()
    (tmp_path / 'list.txt').write_text(lines)
    code = run_tool(load_tool(tool).main, [str(tmp_path / 'src'), str(tmp_path / 'out'), '--ann-file',
                                           str(tmp_path / 'list.txt')], prog=prog)
    assert code == 2 and "list.txt, lines 1 and 3: both write 'cls/a'" in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


def test_a_sample_rate_below_the_mel_bands_is_one_argument_error(tmp_path, capsys):
    # it was blamed on each file, and with --on-invalid skip every file was skipped and the run "succeeded"
    src = tmp_path / 'videos'
    src.mkdir()
    write_tone_mp4(src / 'a.mp4')
    with pytest.raises(SystemExit) as exit_:
        load_tool('data/build_audio_features').main([str(src), str(tmp_path / 'feats'), '--level', '1',
                                                     '--sample-rate', '8000', '--on-invalid', 'skip'])
    assert exit_.value.code == 2 and '--sample-rate 8000' in capsys.readouterr().err
    assert not (tmp_path / 'feats').exists()
