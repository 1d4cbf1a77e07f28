"""Realtime voice loop: a transport-independent session (events in, events out); api/ws.py adapts it."""
