"""The bad input corpus (SPEC §9): malformed projects and stack settings, one clear error each."""
