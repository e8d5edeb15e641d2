"""Mail sent in the background: ``await send_later(message)``.

The message is sent by heron.tasks' ``heron.mail.deliver`` task, on the backend the app
configures: at once (``immediate``), after the response (``local``) or by ``heron
worker`` (``procrastinate``), with three retries 30, 60 and 120 seconds apart when the
SMTP server fails.  heron.auth sends its reset mail this way.
"""

from __future__ import annotations

from typing import Any

from heron.mail.message import EmailMessage
from heron.tasks import TaskResult, current_app, task

__all__ = ["asend_later", "deliver", "send_later"]


@task(name="heron.mail.deliver", queue="mail", retries=3, backoff=30)
async def deliver(message: dict[str, Any]) -> int:
    """Send a message given as :meth:`EmailMessage.to_dict` data; how many were sent."""
    from heron.mail.sending import mailer

    return await mailer(current_app()).send(EmailMessage.from_dict(message))


def send_later(message: EmailMessage) -> TaskResult:
    """Send ``message`` in the background, through the ``heron.mail.deliver`` task."""
    return deliver.enqueue(message=message.to_dict())


async def asend_later(message: EmailMessage) -> TaskResult:
    """:func:`send_later` for async code."""
    return await deliver.aenqueue(message=message.to_dict())
