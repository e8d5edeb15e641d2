"""A blog: heron's feeds, sitemaps and robots.txt example (see app.py)."""
