"""Signals: named events that other code can listen to, on blinker (docs/signals.md).

    from heron.signals import post_save

    @post_save.connect
    def remember(sender, instance, created, **extra):
        ...

Every signal is a :class:`blinker.Signal`.  A receiver is a plain function
taking the sender (positionally) and keyword arguments; ``signal.connect(f,
sender=Model)`` listens to one sender only.  Receivers run where the event
happens, in the sending thread, before heron goes on: keep them short and hand
slow work to a task.  An exception in a receiver propagates to the sender.

This module is part of heron's core: it defines the signals and imports no
battery.  heron.db sends the model signals, heron.auth the login ones, heron.app
the request ones and heron.templating ``template_rendered``.  Nothing imports this
module (or blinker) until a project or a battery does, so an app that never
listens pays nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blinker import Namespace, Signal

if TYPE_CHECKING:
    from heron.types import Receive, Scope, Send

__all__ = [
    "post_delete",
    "post_save",
    "pre_delete",
    "pre_save",
    "request_finished",
    "request_started",
    "template_rendered",
    "two_factor_changed",
    "user_logged_in",
    "user_logged_out",
    "user_login_failed",
]

_signals = Namespace()

#: Before a flush writes a new or changed row: ``sender`` the model class,
#: ``instance``, ``created`` (True for an INSERT), ``session`` (the sync
#: SQLAlchemy session).  Changes a receiver makes to ``instance`` are saved too.
pre_save: Signal = _signals.signal("pre_save")
#: After a flush wrote a new or changed row (before the commit); as :data:`pre_save`.
post_save: Signal = _signals.signal("post_save")
#: Before a flush deletes a row: ``sender`` the model class, ``instance``, ``session``.
pre_delete: Signal = _signals.signal("pre_delete")
#: After a flush deleted a row (before the commit); as :data:`pre_delete`.
post_delete: Signal = _signals.signal("post_delete")
#: An HTTP request reached the app: ``sender`` the app, ``scope`` the ASGI scope.
request_started: Signal = _signals.signal("request_started")
#: The app finished an HTTP request (its response sent, or an error raised):
#: ``sender`` the app, ``scope``.
request_finished: Signal = _signals.signal("request_finished")
#: A page was rendered into a response: ``sender`` the app, ``template`` (its
#: name), ``context`` (the variables, ``request`` included).
template_rendered: Signal = _signals.signal("template_rendered")
#: A user logged in: ``sender`` the user model, ``request``, ``user``.
user_logged_in: Signal = _signals.signal("user_logged_in")
#: A user logged out: ``sender`` the user model (``None`` when nobody was
#: logged in), ``request``, ``user`` (or ``None``).
user_logged_out: Signal = _signals.signal("user_logged_out")
#: A login was refused (a wrong name or password, an inactive user): ``sender``
#: the user model, ``request`` (``None`` outside a request), ``username``.  The
#: password is never sent.
user_login_failed: Signal = _signals.signal("user_login_failed")
#: A user's second factors changed: ``sender`` the user model, ``request`` (``None``
#: outside a request), ``user``, ``factor`` (``"totp"``, ``"recovery_codes"`` or
#: ``"passkey"``), ``action`` (``"added"``, ``"removed"``, ``"reset"`` or
#: ``"regenerated"``), ``detail`` (text for people: a passkey's name; never a
#: secret or a code).
two_factor_changed: Signal = _signals.signal("two_factor_changed")


class _RequestSignals:
    """Sends :data:`request_started` and :data:`request_finished` around each HTTP
    request.  heron.app puts it outermost only when one of them has a receiver
    when the app starts, so other apps keep their request path as it is."""

    def __init__(self, app: Any, sender: Any) -> None:
        self.app = app
        self.sender = sender

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_started.send(self.sender, scope=scope)
        try:
            await self.app(scope, receive, send)
        finally:
            request_finished.send(self.sender, scope=scope)
