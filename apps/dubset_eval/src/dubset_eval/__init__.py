"""Scoring of pipeline outputs against a test episode's truth."""
