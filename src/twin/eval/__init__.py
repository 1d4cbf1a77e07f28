"""Evaluations of how much twin's drafts sound like their owner."""
