"""Log-mel features of a short utterance with numpy only.

Mono → 16 kHz (FFT resampling) → silence trimmed against the clip's own noise floor → 40 log-mel
bands every 10 ms → each band's mean removed (gain and channel invariance) → the time axis
stretched to 32 frames. The result is a fixed 40×32 = 1,280-value vector, whatever the length.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RATE = 16_000
N_FFT, HOP, WIN = 512, 160, 400
N_MELS, FRAMES = 40, 32
FMIN, FMAX = 20.0, 7_600.0
FEATURES = N_MELS * FRAMES
EDGE_ENERGY = 0.005


def mono(samples: np.ndarray) -> np.ndarray:
    """(N,) or (N, channels) → (N,) float64."""
    x = np.asarray(samples, dtype=np.float64)
    return x.mean(axis=1) if x.ndim == 2 else x


def resample(x: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Band-limited resampling through the FFT (exact for periodic signals, fine for speech)."""
    if rate == target or len(x) == 0:
        return x
    n_out = max(1, int(round(len(x) * target / rate)))
    spectrum = np.fft.rfft(x)
    keep = n_out // 2 + 1
    spectrum = spectrum[:keep] if len(spectrum) >= keep else np.pad(spectrum, (0, keep - len(spectrum)))
    return np.fft.irfft(spectrum, n=n_out) * (n_out / len(x))


def _frames(x: np.ndarray) -> np.ndarray:
    if len(x) < WIN:
        x = np.pad(x, (0, WIN - len(x)))
    count = 1 + (len(x) - WIN) // HOP
    idx = np.arange(WIN)[None, :] + HOP * np.arange(count)[:, None]
    return x[idx]


def trim(x: np.ndarray) -> np.ndarray:
    """Cut leading and trailing frames quieter than the speech threshold (noise floor aware).

    The cut never removes more than ``EDGE_ENERGY`` of the clip's energy on either side, so a clip
    that is already tight (no silence, whose quietest frames are speech) keeps its soft edges.
    """
    rms = np.sqrt(np.mean(_frames(x) ** 2, axis=1) + 1e-12)
    threshold = max(0.05 * rms.max(), 3.0 * np.percentile(rms, 10))
    loud = np.nonzero(rms >= threshold)[0]
    if loud.size == 0:  # flat: no frame stands out from the floor
        return x
    share = np.cumsum(rms**2) / np.sum(rms**2)
    first = min(int(loud[0]), int(np.searchsorted(share, EDGE_ENERGY)))
    last = max(int(loud[-1]), int(np.searchsorted(share, 1.0 - EDGE_ENERGY)))
    return x[first * HOP : last * HOP + WIN]


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters on the HTK mel scale."""
    def to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = to_hz(np.linspace(to_mel(np.array(FMIN)), to_mel(np.array(FMAX)), N_MELS + 2))
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising, falling = (freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)
    return np.clip(np.minimum(rising, falling), 0.0, None)


def log_mel(x: np.ndarray) -> np.ndarray:
    """(frames, N_MELS) log mel energies of 16 kHz samples."""
    frames = _frames(x) * np.hanning(WIN)
    power = np.abs(np.fft.rfft(frames, n=N_FFT, axis=1)) ** 2
    return np.log(power @ mel_filters().T + 1e-10)


def stretch(feats: np.ndarray, frames: int = FRAMES) -> np.ndarray:
    """Linearly resample the time axis of (T, bands) to (frames, bands)."""
    t = len(feats)
    if t == 1:
        return np.repeat(feats, frames, axis=0)
    pos = np.linspace(0, t - 1, frames)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, t - 1)
    frac = (pos - lo)[:, None]
    return feats[lo] * (1 - frac) + feats[hi] * frac


def utterance_features(samples: np.ndarray, rate: int) -> np.ndarray:
    """The 1,280 float32 features of one utterance."""
    x = trim(resample(mono(samples), rate))
    mel = log_mel(x)
    mel = mel - mel.mean(axis=0, keepdims=True)
    return stretch(mel).reshape(-1).astype(np.float32)
