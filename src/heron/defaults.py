"""``heron.App`` and ``heron.Settings``: the core app and settings with heron's
batteries that are on by default, because they make every app safer or most
apps use them.

The core names no battery; this module, above the batteries, does.  Leave one
out with ``class MyApp(App): default_plugins = ...``; see docs/architecture.md.
"""

from __future__ import annotations

from heron.app import App as CoreApp
from heron.auth.settings import AuthSettings
from heron.cache.plugin import CacheSettings
from heron.csrf import CSRFSettings
from heron.db.settings import DatabaseSettings
from heron.i18n.settings import I18nSettings
from heron.mail.settings import MailSettings
from heron.middleware.plugin import MiddlewareSettings
from heron.openapi.plugin import OpenAPISettings
from heron.plugins import Plugin
from heron.security import SecuritySettings
from heron.sessions.plugin import SessionSettings
from heron.settings import Settings as CoreSettings
from heron.storage import StorageSettings
from heron.tasks.plugin import TasksSettings
from heron.templating.plugin import TemplatingSettings

__all__ = ["DEFAULT_PLUGINS", "App", "Settings"]

#: heron's default batteries, by module, in the order they wrap the request.
DEFAULT_PLUGINS: tuple[Plugin | type[Plugin] | str, ...] = (
    "heron.middleware.plugin",
    "heron.security",
    "heron.sessions.plugin",
    "heron.csrf",
    "heron.flash",
    "heron.i18n",  # before the cache: its copies are keyed on the language chosen
    "heron.cache.plugin",
    "heron.templating.plugin",
    "heron.openapi.plugin",
    "heron.db.plugin",
    "heron.mail.plugin",
    "heron.storage",
    "heron.tasks.plugin",
)


class Settings(CoreSettings, SecuritySettings, CSRFSettings, SessionSettings, CacheSettings,
               MiddlewareSettings, OpenAPISettings, TemplatingSettings, DatabaseSettings,
               MailSettings, StorageSettings, TasksSettings, I18nSettings, AuthSettings):
    """Every heron setting: the core's and every battery's section (see
    docs/settings.md); read from keyword arguments, ``HERON_*`` variables and ``.env``.

    heron.auth's section is here too, though it is a component an app adds, so that
    any app can configure it before it uses it (its module imports nothing heavy).

    Subclass it (as a dataclass) to add your project's own settings; they are
    read from the environment the same way.
    """


class App(CoreApp):
    __doc__ = CoreApp.__doc__
    default_plugins = DEFAULT_PLUGINS
    settings_class = Settings
