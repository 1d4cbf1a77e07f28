"""The profile's writing models: exported and registered models, and which one drafts."""

from twin.models.activate import activate, active_record, use_base
from twin.models.store import ModelRecord, add_local, get, list_models

__all__ = ["ModelRecord", "activate", "active_record", "add_local", "get", "list_models", "use_base"]
