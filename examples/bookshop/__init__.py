"""A bookshop: heron's admin example (see app.py)."""
