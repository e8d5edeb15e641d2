"""``heron resetfactors USER``: remove a locked-out user's second factors."""

from __future__ import annotations

from typing import Any

import click

from heron.auth.commands import _fail, _user_model, app_option

__all__ = ["resetfactors_command"]


@click.command("resetfactors")
@app_option
@click.argument("username")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def resetfactors_command(username: str, yes: bool) -> None:
    """Remove every second factor of USERNAME (authenticator app, recovery codes,
    passkeys), for a user who lost them: they log in with their password alone
    until they set up new ones.  Sends two_factor_changed and logs each removal."""
    import asyncio

    from heron.auth.two_factor import afactors, areset_factors
    from heron.auth.users import find_user
    from heron.db import db

    with _user_model() as (application, model):
        async def reset() -> Any:
            async with db.async_context(application):
                session = db.async_session
                user = (await session.execute(find_user(model, username))).scalar_one_or_none()
                if user is None:
                    return None
                had = await afactors(user, session)
                label = user.get_username()
                if not had.any and not had.recovery_codes:
                    return label, had
                if not yes and not click.confirm(
                        f"Remove the second factors of {label!r}?", default=False):
                    return label, None
                return label, await areset_factors(user, None, session)

        found = asyncio.run(reset())
        if found is None:
            _fail(f"No user has the {model.USERNAME_FIELD} {username!r}.")
        label, had = found
        if had is None:
            click.echo("Nothing was changed.")
        elif not had.any and not had.recovery_codes:
            click.echo(f"{label!r} has no second factor.")
        else:
            click.echo(f"The second factors of {label!r} were removed (authenticator app: "
                       f"{'yes' if had.totp else 'no'}, recovery codes: {had.recovery_codes}, "
                       f"passkeys: {had.passkeys}).")
