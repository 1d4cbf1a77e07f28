"""Drafting in the owner's style: prompt building, style exemplars, output cleanup."""

from twin.writing.cleanup import StreamCleaner, clean_draft
from twin.writing.service import Draft, WritingService, WritingSettings

__all__ = ["Draft", "StreamCleaner", "WritingService", "WritingSettings", "clean_draft"]
