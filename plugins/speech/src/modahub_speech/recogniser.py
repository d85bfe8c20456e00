"""Speech recognition with pocketsphinx and the US-English model inside its wheel (offline, CPU).

The acoustic model, pronunciation dictionary and trigram language model are verified against the
sha256 pins below before the decoder is built. Audio of any rate is mixed to mono and resampled to
the model's 16 kHz (polyphase filter). The settings were chosen on espeak-ng speech in the tuning
voices (bench/reading.py's TUNING_VOICES), on Lee sentences the quality bench never uses.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from modahub.weights import packaged_folder, verify_folder

RATE = 16000
"""Sample rate of the acoustic model."""
PINS = {
    "en-us/mdef": "2360f9a86889c1cfee8bd618a0269387911e5fb2920a594f506b18b8c79683b0",
    "en-us/means": "832019e32cac12eb318964f96f469034acb12d0348eeddc3831831a100cb4dd4",
    "en-us/variances": "b00d696f85e96834fc10f8e5f06428d8c4db6bffdbe5845b6f69bf6efbc48fa5",
    "en-us/sendump": "8c9564c0d5bef69ca9d9bf1014abe162f071644cf02cf1fa8a483c3dc165a7a8",
    "en-us/transition_matrices": "c1f7f28ea43177be734be1f88bd7f1b9a853d0e660f8599c67c6eaeca8bb539a",
    "en-us/feat.params": "c982c5f75e2a30c34d2c9ef1f6b129a5a00e67e3e927565076b58664cc2404c9",
    "en-us/noisedict": "7295b07df2c204c4f87c6782b6be1a3859d7006d4e3864181c955d6dab105a33",
    "en-us.lm.bin": "db21d0642286677699e6dbc859d2e5395570222361999387ce60f6e1d01995d6",
    "cmudict-en-us.dict": "20b5c293e1f311fb375fe067e500ec5636f4fc7af5594967263696def9b23bfe",
}
"""sha256 of the US-English model files in pocketsphinx 5.x."""


def mono_at(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Float samples (N or N×channels) at ``rate`` → mono float64 at ``target`` Hz (polyphase filter)."""
    from scipy.signal import resample_poly

    mono = np.asarray(samples, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    if rate != target:
        ratio = Fraction(int(target), int(rate)).limit_denominator(1000)
        mono = resample_poly(mono, ratio.numerator, ratio.denominator)
    return mono


def to_model_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Float samples (N or N×channels, in [-1, 1]) at ``rate`` → mono 16-bit PCM at 16 kHz."""
    return np.round(np.clip(mono_at(samples, rate, RATE), -1.0, 1.0) * 32767).astype(np.int16)


def dithered(pcm: np.ndarray, seed: int = 0) -> np.ndarray:
    """``pcm`` plus seeded noise of -1, 0 or +1 per sample: no runs of exact digital silence remain.

    Synthetic speech has such runs between words; their log energies sit on the floor and skew the
    utterance's cepstral mean. pocketsphinx's own dither draws from one generator per decoder, so a
    sound would read differently depending on what was decoded before; this one is the same every time.
    """
    noise = np.random.default_rng(seed).integers(-1, 2, size=len(pcm))
    return np.clip(pcm.astype(np.int32) + noise, -32768, 32767).astype(np.int16)


class Sphinx:
    """A pocketsphinx decoder over the packaged US-English model.

    ``beam``, ``word_beam``: pruning thresholds (smaller keeps more hypotheses: slower, sometimes
    better); ``second_pass``: the flat-lexicon re-search (slower, seldom better on synthetic speech);
    ``dither``: add :func:`dithered` noise before decoding; ``settings``: other pocketsphinx options
    by name, overriding these defaults (e.g. ``lw=10``; the options in the model's feat.params, such as
    ``cmn``, keep the model's values).
    """

    def __init__(self, beam: float = 1e-40, word_beam: float = 1e-30, second_pass: bool = False, dither: bool = True,
                 **settings: object) -> None:
        from pocketsphinx import Decoder

        folder = verify_folder(packaged_folder("pocketsphinx", "model", "en-us", install="pocketsphinx>=5,<6"), PINS, native=True)
        options = dict(
            hmm=str(folder / "en-us"),
            lm=str(folder / "en-us.lm.bin"),
            dict=str(folder / "cmudict-en-us.dict"),
            samprate=RATE,
            beam=float(beam),
            pbeam=float(beam),
            wbeam=float(word_beam),
            fwdflat=bool(second_pass),
            bestpath=True,
            cmn="batch",  # cepstral mean over the whole utterance: much better than live CMN on short clips
            silprob=0.1,  # pauses between words are likely (default 0.005): fewer words split or merged at pauses
            loglevel="FATAL",
        )
        self._decoder = Decoder(**(options | settings))
        self._dither = bool(dither)

    def transcribe(self, samples: np.ndarray, rate: int) -> str:
        """The words heard in ``samples`` at ``rate`` Hz, lower case, separated by spaces ('' when none)."""
        pcm = to_model_rate(samples, rate)
        pcm = dithered(pcm) if self._dither else pcm
        self._decoder.start_utt()
        self._decoder.process_raw(pcm.tobytes(), full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return " ".join(hyp.hypstr.split()) if hyp is not None else ""
