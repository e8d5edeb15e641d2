"""Sessions: ``request.session``, saved only when modified.

The ``session_backend`` setting chooses where the data lives: ``cookie``
(signed, the default), ``cache`` (memory or Redis, see ``cache_url``),
``database``, or a :class:`SessionBackend` subclass of your own.
See docs/sessions.md.
"""

from heron.sessions.backends import CacheSessionBackend, CookieSessionBackend, SessionBackend
from heron.sessions.session import Session

__all__ = ["CacheSessionBackend", "CookieSessionBackend", "Session", "SessionBackend"]
