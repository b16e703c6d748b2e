"""The repository import's tables (docs/imports.md)."""
