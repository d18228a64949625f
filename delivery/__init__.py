"""The single delivery path for every proactive message (reminders, broadcasts, answers)."""
