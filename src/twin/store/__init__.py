"""The per-profile SQLite store."""
