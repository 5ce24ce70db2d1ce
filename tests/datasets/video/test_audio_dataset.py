"""AudioDataset: mmaction2's audio-feature list (path total_frames label), and lines that must be refused."""
import numpy as np
import pytest

from resbackbones.datasets import AudioDataset


def test_lines_become_samples_with_paths_under_the_prefix(tmp_path):
    (tmp_path / 'list.txt').write_text('a.npy 163 1\nsub/b.npy 122 0\n')
    data = AudioDataset(str(tmp_path / 'list.txt'), [], dict(audio=str(tmp_path / 'feats')))  # mmaction2's order
    first = data.get_data_info(0)
    assert first['audio_path'] == str(tmp_path / 'feats' / 'a.npy') and first['total_frames'] == 163
    assert first['label'] == first['gt_label'] == 1 and first['modality'] == 'Audio'
    assert data.metainfo['classes'] == ('0', '1') and len(data) == 2


@pytest.mark.parametrize('line,kwargs,match', [('a.npy 163', {}, 'line 1: the line has no label'),
                                               ('a.npy x 1', {}, "line 1: expected 'path/to/feature.npy TOTAL_FRAMES"),
                                               ('a.npy 10 5', dict(num_classes=3), 'label 5 is out of range')])
def test_bad_lines_name_the_file_and_line(tmp_path, line, kwargs, match):
    (tmp_path / 'list.txt').write_text(line + '\n')
    with pytest.raises(ValueError, match=match):
        AudioDataset(str(tmp_path / 'list.txt'), **kwargs)


def test_suffix_completes_paths_listed_without_it(tmp_path):
    """mmaction2's audioonly_r50 config passes suffix='.npy' (0.x's option) for lists of bare video ids."""
    (tmp_path / 'list.txt').write_text('a 163 1\nb.npy 122 0\n')
    data = AudioDataset(str(tmp_path / 'list.txt'), data_prefix=dict(audio=str(tmp_path)), suffix='.npy')
    assert [data.get_data_info(i)['audio_path'] for i in range(2)] == [str(tmp_path / 'a.npy'), str(tmp_path / 'b.npy')]
    with pytest.raises(ValueError, match="suffix must be a file ending such as '.npy'"):
        AudioDataset(str(tmp_path / 'list.txt'), suffix='')


def test_unreadable_and_missing_feature_files_are_skipped_or_named_with_their_line(tmp_path):
    """LoadAudioFeature raised plain ValueError / FileNotFoundError, which on_invalid='skip' did not skip, and the
    samples had no list_line for the error to name."""
    np.save(tmp_path / 'good.npy', np.zeros((30, 8), np.float32))
    (tmp_path / 'bad.npy').write_bytes(b'not numpy')
    (tmp_path / 'list.txt').write_text('bad.npy 30 0\nmissing.npy 30 1\ngood.npy 30 1\n')
    kwargs = dict(data_prefix=dict(audio=str(tmp_path)), pipeline=[dict(type='LoadAudioFeature')])
    skipping = AudioDataset(str(tmp_path / 'list.txt'), on_invalid='skip', **kwargs)
    assert skipping[0]['audio_path'] == skipping[1]['audio_path'] == str(tmp_path / 'good.npy')
    assert skipping.skipped_files == [str(tmp_path / 'bad.npy'), str(tmp_path / 'missing.npy')]
    raising = AudioDataset(str(tmp_path / 'list.txt'), **kwargs)
    with pytest.raises(ValueError, match=r'bad.npy: not a .npy feature array.*\(listed in .*list.txt, line 1\)'):
        raising[0]
    with pytest.raises(FileNotFoundError, match=r'missing.npy .*\(listed in .*list.txt, line 2\)'):
        raising[1]


@pytest.mark.parametrize('prefix', [dict(video='feats'), dict(audio='feats', img='frames')])
def test_data_prefix_keys_other_than_audio_are_refused(tmp_path, prefix):
    """dict(video=...) was ignored: every path resolved against the working directory."""
    (tmp_path / 'list.txt').write_text('a.npy 163 1\n')
    with pytest.raises(ValueError, match=r'data_prefix must be a folder or dict\(audio=folder\); got keys'):
        AudioDataset(str(tmp_path / 'list.txt'), data_prefix=prefix)
