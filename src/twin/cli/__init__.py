"""Thin command-line shell over the stages; every command has --json output."""
