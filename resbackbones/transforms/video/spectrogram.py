"""Audio features as mmaction2's ``tools/data/build_audio_features.py`` makes them: a normalised log-mel spectrogram.

Its recipe (from deepvoice3): audio at 16 kHz mono scaled to an RMS of 0.1; lws' STFT (frames of ``fft_size``
samples every ``hop_size``, a square-root Hann window scaled for perfect reconstruction, ``fft_size - hop_size``
zeros padded at both ends); magnitudes onto 80 Slaney mel bands from 125 to 7600 Hz (librosa's ``filters.mel``
defaults); 20 log10 with a -100 dB floor, minus a 20 dB reference, mapped to [0, 1]. The result is (frames,
bands) float32, what ``LoadAudioFeature`` reads. Written here with numpy (no librosa / lws); the audio is decoded
and resampled by PyAV (libswresample), where mmaction2 uses librosa's resampler, so samples differ slightly.
"""
from __future__ import annotations

import av
import numpy as np

MIN_LEVEL_DB, REF_LEVEL_DB = -100.0, 20.0


def read_audio(path: str, sample_rate: int = 16000) -> np.ndarray:
    """The first audio stream of ``path`` (any container PyAV reads) as mono float32 samples at ``sample_rate``;
    ValueError names the file when it has no audio."""
    with av.open(path) as container:
        if not container.streams.audio:
            raise ValueError(f'{path} has no audio stream')
        resampler = av.AudioResampler(format='flt', layout='mono', rate=sample_rate)
        chunks = []
        for frame in container.decode(container.streams.audio[0]):
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
        chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]  # flush
    if not chunks or not sum(len(c) for c in chunks):
        raise ValueError(f'{path}: its audio stream decodes to no samples')
    return np.concatenate(chunks).astype(np.float32)


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear (3 per 200 Hz) below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_part = hz >= 1000.0
    return np.where(log_part, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


def mel_filters(sample_rate: int, fft_size: int, num_mels: int = 80, fmin: float = 125.0,
                fmax: float = 7600.0) -> np.ndarray:
    """(num_mels, fft_size // 2 + 1) triangular filters on the Slaney mel scale, each scaled to unit area per Hz
    (librosa's ``filters.mel`` with htk=False, norm='slaney'), float32."""
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(f'mel_filters: need 0 <= fmin < fmax <= sample_rate / 2; got fmin={fmin}, fmax={fmax}, '
                         f'sample_rate={sample_rate}')
    fft_freqs = np.linspace(0, sample_rate / 2, 1 + fft_size // 2)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), num_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    rising, falling = -ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def lws_stft_magnitude(samples: np.ndarray, fft_size: int, hop_size: int) -> np.ndarray:
    """(frames, fft_size // 2 + 1) STFT magnitudes as lws computes them (``lws.lws(fft_size, hop_size).stft``)."""
    if fft_size % hop_size or fft_size % 2:
        raise ValueError(f'the STFT needs an even fft_size that hop_size divides; got {fft_size} and {hop_size}')
    window = np.sqrt(0.5 * (1 - np.cos(2 * np.pi * np.arange(1, 2 * fft_size, 2) / (2 * fft_size)))
                     * 2 * hop_size / fft_size)
    pad = np.zeros(fft_size - hop_size)
    x = np.concatenate([pad, samples.astype(np.float64), pad])
    frames = (len(x) - fft_size) // hop_size + (1 if len(x) % hop_size == 0 else 2)
    x = np.concatenate([x, np.zeros((frames - 1) * hop_size + fft_size - len(x))])
    starts = hop_size * np.arange(frames)
    windows = x[starts[:, None] + np.arange(fft_size)[None, :]] * window
    return np.abs(np.fft.rfft(windows, n=fft_size, axis=1))


def log_mel_features(samples: np.ndarray, sample_rate: int = 16000, fft_size: int = 512, hop_size: int = 256,
                     num_mels: int = 80) -> np.ndarray:
    """(frames, num_mels) float32 features in [0, 1] of mono ``samples`` (mmaction2's recipe, above)."""
    if len(samples) == 0:
        raise ValueError('log_mel_features: no samples')
    scaled = samples.astype(np.float64) * (0.1 / max(1e-4, float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))))
    mel = mel_filters(sample_rate, fft_size, num_mels) @ lws_stft_magnitude(scaled, fft_size, hop_size).T
    decibels = 20 * np.log10(np.maximum(10 ** (MIN_LEVEL_DB / 20), mel)) - REF_LEVEL_DB
    return np.clip((decibels - MIN_LEVEL_DB) / -MIN_LEVEL_DB, 0, 1).astype(np.float32).T
