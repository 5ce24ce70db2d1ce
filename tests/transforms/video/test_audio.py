"""The audio-feature transforms against mmaction2's selector arithmetic (written out below), and their errors."""
import logging

import numpy as np
import pytest

from resbackbones.transforms.video import (AudioFeatureSelector, FormatAudioShape, LoadAudioFeature,
                                           PackActionInputs, SampleFrames)


def mmaction2_selector(audio, frame_inds, num_clips, total_frames, length, fixed_length):
    """mmaction2 v1.2's AudioFeatureSelector.transform, in its control flow."""
    clips = []
    for inds in frame_inds.reshape(num_clips, -1):
        start = max(0, int(round((inds[0] + 1) / total_frames * length)))
        end = min(length, int(round((inds[-1] + 1) / total_frames * length)))
        cropped = audio[start:end, :]
        if cropped.shape[0] >= fixed_length:
            clips.append(cropped[:fixed_length, :])
        else:
            clips.append(np.pad(cropped, ((0, fixed_length - cropped.shape[0]), (0, 0)), mode='constant'))
    return np.array(clips)


@pytest.mark.parametrize('total,length,clip_len,num_clips', [(300, 1000, 64, 1), (300, 1000, 64, 10),
                                                            (50, 400, 64, 3), (250, 256, 8, 2)])
def test_selector_equals_mmaction2(tmp_path, total, length, clip_len, num_clips):
    audio = np.random.default_rng(0).random((length, 80)).astype(np.float32)
    np.save(tmp_path / 'a.npy', audio)
    results = LoadAudioFeature()(dict(audio_path=str(tmp_path / 'a.npy'), total_frames=total, start_index=0))
    assert results['length'] == length
    results = SampleFrames(clip_len, num_clips=num_clips, test_mode=True)(results)
    expected = mmaction2_selector(audio, results['frame_inds'], num_clips, total, length, 128)
    got = AudioFeatureSelector()(dict(results))['audios']
    np.testing.assert_array_equal(got, expected)
    packed = PackActionInputs()(FormatAudioShape('NCTF')(dict(results, audios=got, label=2)))
    assert tuple(packed['inputs'].shape) == (num_clips, 1, 128, 80) and packed['data_samples']['gt_label'] == 2


def test_a_missing_feature_file_stops_unless_padding_is_asked_for(tmp_path, caplog):
    path = str(tmp_path / 'no_audio.npy')
    with pytest.raises(FileNotFoundError, match="audio feature file not found: .*no_audio.npy .*missing='pad'"):
        LoadAudioFeature()(dict(audio_path=path))
    with caplog.at_level(logging.WARNING):
        out = LoadAudioFeature(missing='pad')(dict(audio_path=path))
    assert out['audios'].shape == (640, 80) and not out['audios'].any() and out['length'] == 640


@pytest.mark.parametrize('content,match', [(np.zeros((4, 5, 6)), r'shape \(4, 5, 6\); expected \(time, frequency\)'),
                                           (np.array([['a', 'b']]), 'expected .* numbers')])
def test_a_feature_file_of_the_wrong_kind_is_named(tmp_path, content, match):
    np.save(tmp_path / 'f.npy', content)
    with pytest.raises(ValueError, match='f.npy: it holds .*' + match):
        LoadAudioFeature()(dict(audio_path=str(tmp_path / 'f.npy')))
    np.save(tmp_path / 'obj.npy', np.array([{'a': 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match='obj.npy: not a .npy feature array'):  # pickled objects are not loaded
        LoadAudioFeature()(dict(audio_path=str(tmp_path / 'obj.npy')))


def test_selector_and_format_say_what_to_put_first():
    with pytest.raises(ValueError, match=r"lacks \['frame_inds', 'num_clips'\] \(put LoadAudioFeature and Sample"):
        AudioFeatureSelector()(dict(audios=np.zeros((4, 2)), length=4, total_frames=3))
    with pytest.raises(ValueError, match='put AudioFeatureSelector first'):
        FormatAudioShape()(dict(audios=np.zeros((4, 2))))
