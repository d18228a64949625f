"""Officer broadcasts: segments, templates, sending, progress and reports."""
