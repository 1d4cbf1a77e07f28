"""Persona chat: personas, conversations, prompt budgeting and the one chat service every surface uses."""
