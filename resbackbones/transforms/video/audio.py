"""mmaction2's audio-feature transforms: ``LoadAudioFeature``, ``AudioFeatureSelector``, ``FormatAudioShape``.

An audio sample is a (time, frequency) feature array of a whole video (a log-mel spectrogram); ``SampleFrames``
picks video frames as usual and the selector cuts each clip's stretch of the spectrogram at the same relative
position, padded or cut to ``fixed_length`` rows. The arithmetic follows mmaction2 v1.2 (tests/transforms/video/
test_audio.py writes its selector out and compares).
"""
from __future__ import annotations

import logging
import os

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from ...registry import TRANSFORMS
from ..loading import CorruptImageError

DUMMY_SHAPE = (640, 80)  # mmaction2's stand-in for a video without audio: 10 s of 80 mel bins


class CorruptAudioFeatureError(CorruptImageError):
    """An audio feature file that is not a (time, frequency) .npy array; ``path`` names it (datasets may skip)."""

    def __init__(self, path: str, reason: str):
        ValueError.__init__(self, f'cannot read audio features {path}: {reason}')
        self.path = path


class AudioFeatureNotFoundError(CorruptAudioFeatureError, FileNotFoundError):
    """A missing feature file: a FileNotFoundError that ``on_invalid='skip'`` skips like a corrupt one."""

    def __init__(self, path: str, reason: str):
        ValueError.__init__(self, f'audio feature file not found: {path} ({reason})')
        self.path = path


@TRANSFORMS.register_module()
class LoadAudioFeature(BaseTransform):
    """``audios`` = the (time, frequency) float array saved at ``audio_path`` (``np.load``, no pickles);
    ``length`` = its rows.

    Args:
        pad_method: what stands in for a missing file when ``missing`` allows it: 'zero' or 'random' (uniform 0..1),
            a 640 x 80 array as mmaction2's.
        missing: 'raise' (default here): a missing file stops with its path; 'pad': use the stand-in and log the
            path (mmaction2 always pads silently; some Kinetics videos have no audio stream).
    """

    def __init__(self, pad_method: str = 'zero', missing: str = 'raise'):
        if pad_method not in ('zero', 'random'):
            raise ValueError(f"LoadAudioFeature: pad_method must be 'zero' or 'random'; got {pad_method!r}")
        if missing not in ('raise', 'pad'):
            raise ValueError(f"LoadAudioFeature: missing must be 'raise' or 'pad'; got {missing!r}")
        self.pad_method, self.missing = pad_method, missing

    def transform(self, results: dict) -> dict:
        path = results.get('audio_path')
        if not isinstance(path, str):
            raise ValueError(f"LoadAudioFeature needs results['audio_path'] (AudioDataset sets it); got {path!r}")
        if os.path.isfile(path):
            try:
                features = np.load(path, allow_pickle=False)
            except (ValueError, OSError, EOFError) as err:
                raise CorruptAudioFeatureError(path, f'not a .npy feature array: {err}') from err
            if features.ndim != 2 or features.dtype.kind not in 'fiu':
                raise CorruptAudioFeatureError(path, f'it holds a {features.dtype} array of shape {features.shape}; '
                                                     'expected (time, frequency) numbers')
        elif self.missing == 'pad':
            print_log(f'LoadAudioFeature: {path} does not exist; using a {self.pad_method} {DUMMY_SHAPE} stand-in '
                      f"(missing='pad')", logger='current', level=logging.WARNING)
            features = (np.zeros(DUMMY_SHAPE, np.float32) if self.pad_method == 'zero'
                        else np.random.rand(*DUMMY_SHAPE).astype(np.float32))
        else:
            raise AudioFeatureNotFoundError(path, "videos without audio: LoadAudioFeature(missing='pad') uses a "
                                                  'stand-in, as mmaction2 does silently')
        results['length'], results['audios'] = features.shape[0], features
        return results

    def __repr__(self) -> str:
        return f'LoadAudioFeature(pad_method={self.pad_method!r}, missing={self.missing!r})'


@TRANSFORMS.register_module()
class AudioFeatureSelector(BaseTransform):
    """Each clip's stretch of ``audios``: rows from round((first + 1) / total_frames * length) to
    round((last + 1) / total_frames * length) of the clip's first and last sampled frames, zero-padded or cut to
    ``fixed_length`` rows -> (clips, fixed_length, frequency)."""

    def __init__(self, fixed_length: int = 128):
        if isinstance(fixed_length, bool) or not isinstance(fixed_length, int) or fixed_length < 1:
            raise ValueError(f'AudioFeatureSelector: fixed_length must be an integer >= 1; got {fixed_length!r}')
        self.fixed_length = fixed_length

    def transform(self, results: dict) -> dict:
        missing = [k for k in ('audios', 'frame_inds', 'num_clips', 'length', 'total_frames') if k not in results]
        if missing:
            raise ValueError(f'AudioFeatureSelector: {results.get("audio_path", "the sample")} lacks {missing} (put '
                             'LoadAudioFeature and SampleFrames first)')
        audio, total, length = results['audios'], results['total_frames'], results['length']
        clips = []
        for inds in np.asarray(results['frame_inds']).reshape(results['num_clips'], -1):
            start = max(0, int(round((inds[0] + 1) / total * length)))
            end = min(length, int(round((inds[-1] + 1) / total * length)))
            piece = audio[start:end][:self.fixed_length]
            clips.append(np.pad(piece, ((0, self.fixed_length - len(piece)), (0, 0))))
        results['audios'] = np.stack(clips)
        results['audios_shape'] = results['audios'].shape
        return results

    def __repr__(self) -> str:
        return f'AudioFeatureSelector(fixed_length={self.fixed_length})'


@TRANSFORMS.register_module()
class FormatAudioShape(BaseTransform):
    """(clips, time, frequency) -> (clips, 1, time, frequency): 'NCTF', one-channel images for a 2D backbone."""

    def __init__(self, input_format: str = 'NCTF'):
        if input_format != 'NCTF':
            raise ValueError(f"FormatAudioShape: input_format must be 'NCTF'; got {input_format!r}")
        self.input_format = input_format

    def transform(self, results: dict) -> dict:
        audios = results.get('audios')
        if not isinstance(audios, np.ndarray) or audios.ndim != 3:
            raise ValueError("FormatAudioShape needs results['audios'] as (clips, time, frequency) (put "
                             f"AudioFeatureSelector first); got {getattr(audios, 'shape', type(audios).__name__)}")
        results['audios'] = audios[:, None]
        results['input_shape'] = results['audios'].shape
        return results

    def __repr__(self) -> str:
        return f'FormatAudioShape(input_format={self.input_format!r})'
