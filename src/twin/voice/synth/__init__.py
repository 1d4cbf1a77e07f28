"""Speech synthesis for the whole app: `Synthesizer(profile).synthesize(text, voice_id=…)`."""

from twin.voice.synth.synthesizer import SpeechStream, SynthesisResult, Synthesizer

__all__ = ["SpeechStream", "SynthesisResult", "Synthesizer"]
