"""Selling: accounts, contacts, leads and their conversion, opportunities, the pipeline and its
stages, the forecast against quota, and the dashboard's figures."""
