"""Data in and out, and in bulk: CSV import, streamed export, bulk tag/update/delete with undo,
data-quality checks (lint), and demo data."""
