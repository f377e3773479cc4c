"""Intake's pure rules, no I/O: de-identification, triage, themes and sentiment, and the
reading of monthly FFT return files."""
