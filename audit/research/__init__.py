"""What researchers see of the log: studies, pseudonyms, datasets, exports and metrics."""
