"""Import of exports (WhatsApp, email, subtitles) into the profile's normalized message store."""
