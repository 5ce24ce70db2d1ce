"""SampleFrames / DenseSampleFrames / UniformSample against mmaction2's arithmetic (mmaction2_sampling.py), index
for index."""
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import mmaction2_sampling as mma  # noqa: E402

from resbackbones.transforms.video import DenseSampleFrames, SampleFrames, UniformSample  # noqa: E402

TOTALS = (1, 3, 7, 8, 16, 31, 64, 250)
SETTINGS = [dict(clip_len=c, frame_interval=i, num_clips=n) for c, i, n in
            ((1, 1, 1), (1, 1, 8), (1, 1, 3), (8, 1, 1), (8, 8, 1), (4, 2, 10), (32, 2, 1), (16, 4, 3))]


@pytest.mark.parametrize('setting', SETTINGS, ids=lambda s: 'x'.join(map(str, s.values())))
@pytest.mark.parametrize('mode', [dict(), dict(test_mode=True), dict(test_mode=True, twice_sample=True),
                                  dict(keep_tail_frames=True), dict(temporal_jitter=True),
                                  dict(out_of_bound_opt='repeat_last'),
                                  dict(out_of_bound_opt='repeat_last', test_mode=True)],
                         ids=lambda m: '-'.join(f'{k}={v}' for k, v in m.items()) or 'train')
def test_sample_frames_equals_mmaction2(setting, mode):
    if mode.get('twice_sample') and setting['num_clips'] == 1 and setting['clip_len'] > 1:
        pytest.skip('mmaction2 divides by num_clips - 1 = 0 here')
    transform = SampleFrames(**setting, **mode)
    for total, start, seed in itertools.product(TOTALS, (0, 1), range(3)):
        np.random.seed(seed)
        ours = transform(dict(total_frames=total, start_index=start))['frame_inds']
        np.random.seed(seed)
        theirs = mma.sample_frames(total, start, **setting, **mode)
        assert ours.dtype == np.int32 and ours.shape == (setting['clip_len'] * setting['num_clips'] *
                                                         (2 if mode.get('twice_sample') else 1),)
        np.testing.assert_array_equal(ours, theirs, err_msg=f'total={total} start={start} seed={seed}')
        if mode.get('temporal_jitter') is None and mode.get('out_of_bound_opt') is None:
            assert ((ours - start) < total).all() and ((ours - start) >= 0).all()


@pytest.mark.parametrize('setting', [dict(clip_len=1, num_clips=8), dict(clip_len=8, frame_interval=8, num_clips=1),
                                     dict(clip_len=4, frame_interval=2, num_clips=3, sample_range=32,
                                          num_sample_positions=4)],
                         ids=lambda s: '-'.join(f'{k}={v}' for k, v in s.items()))
@pytest.mark.parametrize('mode', [dict(), dict(test_mode=True), dict(temporal_jitter=True),
                                  dict(out_of_bound_opt='repeat_last', test_mode=True)],
                         ids=lambda m: '-'.join(f'{k}={v}' for k, v in m.items()) or 'train')
def test_dense_sample_frames_equals_mmaction2(setting, mode):
    transform = DenseSampleFrames(**setting, **mode)
    for total, start, seed in itertools.product(TOTALS, (0, 1), range(3)):
        np.random.seed(seed)
        ours = transform(dict(total_frames=total, start_index=start))['frame_inds']
        np.random.seed(seed)
        theirs = mma.dense_sample_frames(total, start, **setting, **mode)
        np.testing.assert_array_equal(ours, theirs, err_msg=f'total={total} start={start} seed={seed}')


def test_dense_sampling_known_values():
    """TSM's dense test: 8 one-frame clips 8 apart in a 64-frame window, 10 windows spread over 250 frames."""
    inds = DenseSampleFrames(1, 1, 8, test_mode=True)(dict(total_frames=250))['frame_inds']
    assert inds.shape == (80,) and inds[:8].tolist() == list(range(0, 64, 8))
    assert inds[-8:].tolist() == list(range(186, 250, 8))  # last window starts at 250 - 64 = 186
    with pytest.raises(ValueError, match='sample_range must be an integer >= 1'):
        DenseSampleFrames(1, 1, 8, sample_range=0)


@pytest.mark.parametrize('clip_len, num_clips, test_mode', [(8, 1, False), (16, 1, False), (8, 1, True),
                                                            (8, 3, True), (5, 2, True)])
def test_uniform_sample_equals_mmaction2(clip_len, num_clips, test_mode):
    transform = UniformSample(clip_len, num_clips, test_mode)
    for total, seed in itertools.product(TOTALS, range(3)):
        np.random.seed(seed)
        ours = transform(dict(total_frames=total, start_index=0))['frame_inds']
        np.random.seed(seed)
        np.testing.assert_array_equal(ours, mma.uniform_sample(total, 0, clip_len, num_clips, test_mode))


def test_known_values():
    """Hand-checked cases, so that a shared mistake in both copies would still show."""
    # TSN test: the centres of 8 segments of 80 frames; rawframes start at 1
    inds = SampleFrames(1, 1, 8, test_mode=True)(dict(total_frames=80, start_index=1))['frame_inds']
    assert inds.tolist() == [6, 16, 26, 36, 46, 56, 66, 76]
    # a 3D test clip in the middle: 8 frames x 8 of 100 -> offset (100 - 57) // 2 = 21
    inds = SampleFrames(8, 8, 1, test_mode=True)(dict(total_frames=100))['frame_inds']
    assert inds.tolist() == list(range(21, 78, 8))
    # clips longer than the video
    assert SampleFrames(6, 2, 1, test_mode=True)(dict(total_frames=5))['frame_inds'].tolist() == [0, 2, 4, 1, 3, 0]
    assert SampleFrames(6, 2, 1, test_mode=True, out_of_bound_opt='repeat_last')(
        dict(total_frames=5))['frame_inds'].tolist() == [0, 2, 4, 4, 4, 4]


@pytest.mark.parametrize('kwargs, message', [(dict(clip_len=0), 'clip_len must be an integer >= 1'),
                                             (dict(clip_len=8, out_of_bound_opt='wrap'), 'out_of_bound_opt'),
                                             (dict(clip_len=8, num_clips=1.5), 'num_clips'),
                                             # a ZeroDivisionError at the first sample (as in mmaction2)
                                             (dict(clip_len=8, test_mode=True, twice_sample=True),
                                              'twice_sample with clip_len > 1 needs num_clips >= 2')])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SampleFrames(**kwargs)


def test_zero_frames_names_the_video():
    with pytest.raises(ValueError, match='a.mp4 has total_frames=0'):
        SampleFrames(8)(dict(total_frames=0, filename='a.mp4'))


@pytest.mark.parametrize('setting', [dict(clip_len=1, num_clips=8), dict(clip_len=8, frame_interval=8),
                                     dict(clip_len=16, frame_interval=5), dict(clip_len=4, frame_interval=2,
                                                                              num_clips=3)],
                         ids=lambda s: 'x'.join(map(str, s.values())))
@pytest.mark.parametrize('mode', [dict(), dict(test_mode=True), dict(keep_tail_frames=True),
                                  dict(out_of_bound_opt='repeat_last', test_mode=True)],
                         ids=lambda m: '-'.join(f'{k}={v}' for k, v in m.items()) or 'train')
@pytest.mark.parametrize('fps', [(30, 30.0), (30, 60.0), (30, 24.0), (15, 29.97), (30, None)],
                         ids=lambda f: f'target{f[0]}-video{f[1]}')
def test_target_fps_equals_mmaction2(setting, mode, fps):
    """X3D's configs sample at target_fps=30: mmaction2's scaled span, floored test steps and linspace frames."""
    target, avg = fps
    transform = SampleFrames(**setting, **mode, target_fps=target)
    for total, start, seed in itertools.product(TOTALS, (0, 1), range(3)):
        sample = dict(total_frames=total, start_index=start, **({} if avg is None else {'avg_fps': avg}))
        np.random.seed(seed)
        ours = transform(sample)['frame_inds']
        np.random.seed(seed)
        theirs = mma.sample_frames_fps(total, start, **setting, **mode, target_fps=target, avg_fps=avg)
        np.testing.assert_array_equal(ours, theirs, err_msg=f'total={total} start={start} seed={seed}')


def test_target_fps_spans_the_same_time_at_any_frame_rate():
    """A 60 fps video's clip covers twice the frames of a 30 fps one's (same seconds), evenly spread."""
    transform = SampleFrames(clip_len=4, frame_interval=5, test_mode=True, target_fps=30)
    at_30 = transform(dict(total_frames=300, start_index=0, avg_fps=30.0))['frame_inds']
    at_60 = transform(dict(total_frames=600, start_index=0, avg_fps=60.0))['frame_inds']
    assert np.diff(at_30).tolist() == [6, 6, 7] and np.diff(at_60).tolist() == [13, 13, 13]
    assert at_60[0] == 2 * at_30[0] == 280  # centred: (600 - 40) // 2 and 2 x (300 - 20) // 2


@pytest.mark.parametrize('kwargs, message', [
    (dict(target_fps=0), 'target_fps must be a frame rate > 0'),
    (dict(target_fps='30'), 'target_fps must be a frame rate > 0'),
    (dict(target_fps=30, temporal_jitter=True), 'temporal_jitter with target_fps'),
])
def test_bad_target_fps_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SampleFrames(clip_len=8, **kwargs)
    with pytest.raises(ValueError, match='target_fps do not apply'):
        DenseSampleFrames(clip_len=8, target_fps=30)
