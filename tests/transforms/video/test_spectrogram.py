"""Audio features as mmaction2 builds them: lws' STFT written out, the Slaney mel bank's defining properties, the
log-mel mapping on tones and silence, and audio decoded from real-format files (a tone in an mp4, the real clips)."""
import sys
from pathlib import Path

import numpy as np
import pytest

from resbackbones.transforms.video.spectrogram import (hz_to_mel, log_mel_features, lws_stft_magnitude, mel_filters,
                                                       mel_to_hz, read_audio)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: video_fixtures
from video_fixtures import REAL_VIDEOS, write_tone_mp4  # noqa: E402


def lws_stft(x, fsize, fshift):
    """lws 1.2's ``lws(fsize, fshift).stft(x)`` (perfectrec=True, its default symmetric sqrt-Hann), frame by frame."""
    n = np.arange(1, 2 * fsize, 2)
    awin = np.sqrt(0.5 * (1 - np.cos(2 * np.pi * n / (2 * fsize))) * 2 * fshift / fsize)
    pad = np.zeros((fsize - fshift,))
    x = np.hstack((pad, x, pad))
    M = (len(x) - fsize) // fshift + 1 if len(x) % fshift == 0 else (len(x) - fsize) // fshift + 2
    x = np.hstack((x, np.zeros(((M - 1) * fshift + fsize - len(x),))))
    spec = np.zeros([M, fsize // 2 + 1], dtype=complex)
    for m in range(M):
        spec[m] = np.fft.fft(x[m * fshift:m * fshift + fsize] * awin, n=fsize)[:fsize // 2 + 1]
    return spec


@pytest.mark.parametrize('length', [1000, 1024, 4001])
def test_stft_equals_lws(length):
    x = np.random.default_rng(0).normal(size=length)
    np.testing.assert_allclose(lws_stft_magnitude(x, 512, 256), np.abs(lws_stft(x, 512, 256)), rtol=1e-10, atol=1e-10)


def test_mel_bank_is_slaney_triangles_of_unit_area():
    weights = mel_filters(16000, 512, 80, 125, 7600)
    assert weights.shape == (80, 257) and weights.dtype == np.float32 and (weights >= 0).all()
    np.testing.assert_allclose(mel_to_hz(hz_to_mel([125, 999, 1000, 4000, 7600])), [125, 999, 1000, 4000, 7600])
    assert hz_to_mel(1000) == pytest.approx(15) and hz_to_mel(200 / 3) == pytest.approx(1)  # linear below 1 kHz
    centres = mel_to_hz(np.linspace(hz_to_mel(125), hz_to_mel(7600), 82))[1:-1]
    bins = np.fft.rfftfreq(512, 1 / 16000)
    peaks = bins[weights.argmax(axis=1)]
    assert np.all(np.abs(peaks - centres) <= 16000 / 512)  # each triangle peaks at its centre, within a bin
    areas = weights.sum(axis=1) * (16000 / 512)  # Slaney norm: every band integrates to 1 over Hz
    np.testing.assert_allclose(areas[40:], 1, atol=0.05)  # wide bands; narrow low ones are coarsely sampled


def test_a_tone_lights_its_band_and_silence_stays_at_zero():
    t = np.arange(16000) / 16000
    features = log_mel_features(np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    assert features.shape == (16000 // 256 + 2, 80) and features.dtype == np.float32
    assert 0 <= features.min() and features.max() <= 1
    band = np.argmin(np.abs(mel_to_hz(np.linspace(hz_to_mel(125), hz_to_mel(7600), 82))[1:-1] - 1000))
    assert abs(int(features[10:-10].mean(0).argmax()) - band) <= 1
    assert not log_mel_features(np.zeros(4000, np.float32)).any()  # below the -100 dB floor


def test_read_audio_resamples_to_mono_at_the_asked_rate(tmp_path):
    samples = read_audio(str(write_tone_mp4(tmp_path / 'tone.mp4')), 16000)
    assert samples.dtype == np.float32 and abs(len(samples) - 16000) < 2048  # 1 s (+ the codec's priming)
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.fft.rfftfreq(len(samples), 1 / 16000)[spectrum.argmax()] - 440) < 5
    with pytest.raises(ValueError, match='silent.mp4 has no audio stream'):
        read_audio(str(write_tone_mp4(tmp_path / 'silent.mp4', with_audio=False)))


@pytest.mark.skipif(not (REAL_VIDEOS / 'bigbuckbunny.mp4').is_file(), reason='the real clips are fetched by make data')
def test_real_clip_audio_gives_one_feature_row_per_hop():
    samples = read_audio(str(REAL_VIDEOS / 'bigbuckbunny.mp4'))
    assert abs(len(samples) / 16000 - 5.31) < 0.1  # its 5.3 s AAC track (48 kHz stereo), mono at 16 kHz
    features = log_mel_features(samples)
    assert features.shape[1] == 80 and abs(features.shape[0] - len(samples) / 256) <= 3
    assert 0.2 < features.mean() < 0.9  # a soundtrack, not silence or clipping
