"""Built-in ASGI middleware.  Each is a class taking ``app`` and options.

Add one with ``app.add_middleware(GZipMiddleware, minimum_size=1000)``.
"""

from heron.middleware.accesslog import AccessLogMiddleware
from heron.middleware.cors import CORSMiddleware
from heron.middleware.gzip import GZipMiddleware
from heron.middleware.proxy import ProxyHeadersMiddleware
from heron.middleware.timing import ServerTimingMiddleware

__all__ = [
    "AccessLogMiddleware",
    "CORSMiddleware",
    "GZipMiddleware",
    "ProxyHeadersMiddleware",
    "ServerTimingMiddleware",
]
