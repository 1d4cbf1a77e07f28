"""Drafting in the owner's style: prompt building, style exemplars, output cleanup."""

from twin.writing.cleanup import StreamCleaner, clean_draft
from twin.writing.service import Draft, DraftPlan, WritingService
from twin.writing.settings import WritingSettings, load_writing_settings, update_writing_settings

__all__ = [
    "Draft",
    "DraftPlan",
    "StreamCleaner",
    "WritingService",
    "WritingSettings",
    "clean_draft",
    "load_writing_settings",
    "update_writing_settings",
]
