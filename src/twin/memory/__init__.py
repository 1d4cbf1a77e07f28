"""Long-term memory: facts and chunks with provenance, the automatic write policy, hybrid recall."""
