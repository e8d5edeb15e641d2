"""A typed JSON API for a to-do list: heron's example of an API app (see app.py)."""
