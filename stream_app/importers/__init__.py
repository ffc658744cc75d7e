"""Importers of public ICU extracts into replay JSON Lines of the event contract."""
