"""Engagement: activities (calls, meetings, e-mails, notes, tasks), the timeline of a record,
and the daily summary. Notifications will live here too."""
