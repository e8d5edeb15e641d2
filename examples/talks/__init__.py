"""A call for talks: heron's forms example (see app.py)."""
