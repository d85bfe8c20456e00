"""video-frames through other encoders: a shown sentence read by ocr-image, a spoken one heard by speech-audio."""

from __future__ import annotations

import numpy as np
import pytest
from modahub_video_frames.encoder import VideoFramesEncoder
from modahub_video_frames.frames import locate, write_video

import modahub
from modahub.documents import Document
from modahub.executors import ExecutorError

pytest.importorskip("modahub_ocr")
pytest.importorskip("modahub_speech")

FPS, HOLD = 2.0, 4
SHOWN = ("The orchestra played the symphony without a conductor.", "Farmers expect a smaller wheat harvest this year.")
SPOKEN = ("A new bridge will open to traffic next spring.", "The museum bought a painting by a young artist.")
OTHERS = ("Two climbers reached the summit before the storm.", "The river flooded the old mill after three days of rain.")


def slide(text: str) -> np.ndarray:
    """``text`` on a 800×240 slide (even sides for H.264)."""
    from modahub_ocr.render import render_text

    pixels = render_text(text, size=28, width=720)
    canvas = np.full((240, 800, 3), 255, np.uint8)
    canvas[: pixels.shape[0], : pixels.shape[1]] = pixels
    return canvas


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Two videos: each shows a blank slide then one sentence, while a voice says another sentence."""
    from modahub_audio.espeak import Voice, speak

    folder = tmp_path_factory.mktemp("videos")
    docs = []
    for n, (shown, spoken) in enumerate(zip(SHOWN, SPOKEN, strict=True)):
        frames = np.stack([np.full((240, 800, 3), 255, np.uint8)] * HOLD + [slide(shown)] * HOLD)
        samples, rate = speak(spoken, Voice("en-us", "f2", speed=120))
        path = folder / f"talk{n}.mp4"
        write_video(str(path), frames, FPS, audio=(samples, rate))
        docs.append(Document(id=f"talk{n}", modality="video", payload={"uri": str(path)}))
    return docs


@pytest.mark.slow  # two OCR passes and two pocketsphinx passes
def test_a_shown_and_a_spoken_sentence_each_find_their_video_by_sight_or_sound(videos):
    encoder = modahub.load("video-frames", sampling="scene", threshold=0.01, image_encoder="ocr-image",
                           audio_encoder="speech-audio")
    vectors = encoder.encode(videos)
    assert (encoder.space, vectors.shape) == ("all-minilm-l6-v2", (2, 384))
    text = modahub.load("minilm-text")
    for n, video in enumerate(videos):
        shown = [c for c in video.chunks if c.tags["by"] == "sight" and c.tags["t"] > 0]
        assert shown and shown[0].tags["t"] == pytest.approx(HOLD / FPS)
        assert shown[0].tags["text"].replace(" ", "") == SHOWN[n].replace(" ", "")  # read through H.264 compression
        for sentence, by in ((SHOWN[n], "sight"), (SPOKEN[n], "sound")):
            query = text.encode([modahub.text(sentence)])[0]
            assert int(np.argmax(vectors @ query)) == n, (sentence, [c.tags.get("text") for c in video.chunks])
            assert locate(video, query)[0].by == by
        for sentence in OTHERS:  # a sentence neither shown nor said is not closer than the video's own
            other = text.encode([modahub.text(sentence)])[0]
            own = text.encode([modahub.text(SHOWN[n])])[0]
            assert vectors[n] @ other < vectors[n] @ own


def test_encoders_of_different_spaces_or_modalities_are_refused(tmp_path):
    with pytest.raises(ExecutorError, match="is not an encoder of image documents"):
        VideoFramesEncoder(image_encoder="minilm-text")
    with pytest.raises(ExecutorError, match="image encoder 'no-such-encoder'"):
        VideoFramesEncoder(image_encoder="no-such-encoder")
    from modahub_image.tiny import tiny_clip

    pytest.importorskip("transformers")
    folder = tiny_clip(tmp_path / "tiny-clip")
    with pytest.raises(ExecutorError, match="pick encoders of one space"):
        VideoFramesEncoder(image_encoder="clip-image", image_params={"model": str(folder)}, audio_encoder="speech-audio")


def test_a_video_without_a_soundtrack_is_its_frames_alone():
    frames = np.stack([slide(SHOWN[0])] * 2)
    doc = Document(modality="video", payload={"frames": frames, "fps": 1.0})
    vector = VideoFramesEncoder(frames=1, image_encoder="ocr-image", audio_encoder="speech-audio").encode([doc])[0]
    assert [c.tags["by"] for c in doc.chunks] == ["sight"]
    np.testing.assert_allclose(vector, doc.chunks[0].embedding, atol=1e-6)
