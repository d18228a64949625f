"""Officer roles, scopes and the audit trail."""
