"""The trace inspector: ``pimsim trace FILE`` (textual app) and ``--summary`` (rich tables)."""
