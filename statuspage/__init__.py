"""Self-hosted status page and uptime monitor."""

__version__ = "0.1.0"
