"""Warehouse inventory and pricing."""

__version__ = "1.4.2"
