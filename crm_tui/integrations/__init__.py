"""Integrations with the outside world: PDF (fpdf2), mail (smtplib), and later payments, messaging, AI."""
