"""The app's screens, one per file. They reach data only through crm_tui.services."""
