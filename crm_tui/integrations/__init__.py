"""Integrations with the outside world: PDF (fpdf2), mail, payments, messaging, AI."""
