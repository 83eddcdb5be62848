"""Integrations with the outside world: mail (smtplib), and later pdf, stripe, whatsapp, ai."""
