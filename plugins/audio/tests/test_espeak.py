"""espeak-ng voices: a word gap adds pauses; a voice without a variant is the plain accent."""

from __future__ import annotations

from modahub_audio.espeak import Voice, speak

WORDS = "one two three four"


def test_a_word_gap_adds_a_pause_between_each_two_words():
    plain, rate = speak(WORDS, Voice("en-us", "m3", speed=160))
    gapped, gapped_rate = speak(WORDS, Voice("en-us", "m3", speed=160, gap=10))
    extra = (len(gapped) - len(plain)) / rate
    # espeak-ng scales its gap unit with the speed: about 0.19 s per pause here, three pauses
    assert gapped_rate == rate and 3 * 0.1 <= extra <= 3 * 0.3, extra


def test_a_voice_without_a_variant_speaks_the_plain_accent():
    voice = Voice("en-us", "")
    samples, rate = speak(WORDS, voice)
    assert voice.name == "en-us" and Voice("en-us", "f2").name == "en-us+f2"
    assert rate > 0 and len(samples) > rate // 2
