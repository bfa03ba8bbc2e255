"""The bad input corpus: malformed projects and stack settings, one clear error each."""
