"""Prompt templates (jinja2, StrictUndefined), shipped as package data."""
