"""The chat tests' fixtures: a profile with a known owner name, and a chat service on the fake LLM with
real embeddings and sqlite-vec."""

from tests.chat.conftest import profile, service  # noqa: F401 - fixtures shared with the chat tests
