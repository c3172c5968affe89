"""The shared base: settings, errors, redaction, the clock, targets; imports nothing above it."""
