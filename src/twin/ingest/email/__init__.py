"""Email import: mbox (streaming, robust to unescaped "From " body lines), .eml and maildir messages,
Outlook .msg/.pst. Each parser yields ParsedMessage records with the reply text only (quotes,
signatures and forwarded content stripped) and Skipped entries for what could not be read."""

from twin.ingest.email.eml import looks_like_eml
from twin.ingest.email.mbox import looks_like_mbox

__all__ = ["looks_like_eml", "looks_like_mbox"]
