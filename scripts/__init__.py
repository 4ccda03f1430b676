"""Project scripts (the demo)."""
