"""The CLI's sub-apps, one module per noun or task. Imports stay light: the
services and SQLAlchemy load inside each command, only when it runs."""
