"""Quoting: the product catalog and proposals (line items, revisions, statuses, templates).
Prices, discounts, tax and rounding live in ``crm_tui.services.pricing``, shared with invoices."""
