"""The data layer: repositories declared per domain, visibility as a value."""
