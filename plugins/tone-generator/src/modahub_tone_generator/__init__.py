"""modahub-tone-generator: tones, chords and melodies from prompts, synthesised with numpy."""
