"""Command-line verbs: `flask create-admin EMAIL` (or `contest ...`), `demo`, `orphans`, `digest`, `worker`,
`export-call`, `import-call`, `reindex-search`."""
from __future__ import annotations

import secrets

import click
from flask import Flask, current_app

from contest.extensions import db
from contest.services import ServiceError


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin_command)
    app.cli.add_command(export_call_command)
    app.cli.add_command(import_call_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(orphans_command)
    app.cli.add_command(digest_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(reindex_search_command)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", help="Name to show.")
@click.option("--password", envvar="CONTEST_ADMIN_PASSWORD", default=None,
              help="Password for a new account (default: ask; with --generate: make one up and print it).")
@click.option("--generate", is_flag=True, help="Make up a strong password and print it.")
def create_admin_command(email: str, name: str, password: str | None, generate: bool) -> None:
    """Make EMAIL an administrator, creating a confirmed account when it has none."""
    from contest.services.accounts import find_user_by_email
    from contest.services.users import create_admin

    existing = find_user_by_email(email)
    if existing is None and password is None:
        if generate:
            password = secrets.token_urlsafe(12)
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_admin(email, password or "", name)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    if existing is not None:
        click.echo(f"{user.email} is now an administrator.")
    else:
        click.echo(f"Created administrator {user.email}" + (f" with password {password}" if generate else "") + ".")


@click.command("demo")
@click.option("--force", is_flag=True, help="Load demo data even in production mode.")
def demo_command(force: bool) -> None:
    """Load demo data a newcomer can click through (does nothing for data already there)."""
    from contest.demo import load_demo

    if current_app.config["CONTEST_ENV"] == "production" and not force:
        raise click.ClickException("Refusing to load demo accounts in production (use --force if you mean it).")
    accounts = load_demo()  # the mails its story sends link to the configured BASE_URL
    db.session.commit()
    click.echo("Demo data loaded. Demo accounts (password for each shown beside it):")
    for role, email, password in accounts:
        click.echo(f"  {role:<28} {email:<40} {password}")


@click.command("reindex-search")
def reindex_search_command() -> None:
    """Segment every entry's words again and find its similar entries again (the migrations did it once)."""
    from contest.services.search import reindex_all

    count = reindex_all(db.session.connection())
    db.session.commit()
    click.echo(f"{count} entries indexed")


@click.command("orphans")
@click.option("--delete", is_flag=True, help="Delete them (default: only list them).")
@click.option("--older-than-minutes", default=60, show_default=True,
              help="Leave younger files alone: they may belong to a submission still in progress.")
def orphans_command(delete: bool, older_than_minutes: int) -> None:
    """List (or delete) stored files that no image row refers to."""
    from datetime import timedelta

    from contest.services.media import find_orphans
    from contest.storage import storage

    keys = find_orphans(timedelta(minutes=older_than_minutes))
    for key in keys:
        click.echo(key)
        if delete:
            storage().delete(key)
    click.echo(f"{len(keys)} orphaned files" + (" deleted." if delete else "."))


@click.command("digest")
def digest_command() -> None:
    """Send each person who chose a daily digest one mail with what waits for them now (the worker does it daily)."""
    from contest.services.notifications import send_digests

    sent = send_digests()  # its links are the configured site's (CONTEST_BASE_URL)
    queued = current_app.config["MAIL_QUEUE"]
    click.echo(f"{sent} digests sent" + (" to the outbox; the worker delivers them." if queued else "."))


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass, then stop (for cron and tests): the clock-driven tasks, then "
                                           "every mail that is due.")
def worker_command(once: bool) -> None:
    """Send the outbox's mail, retrying while the mail server is down, and run the clock-driven tasks: the daily
    digest, jurors' reminders before a round closes, notice periods that ended. Run one or more, all the time."""
    import signal

    from contest.worker import Worker

    worker = Worker(current_app._get_current_object())
    if not once:
        def stop(signum, frame):
            worker.stop.set()  # the mail being sent is finished and marked first

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        click.echo(f"Worker started (mail queue {'on' if current_app.config['MAIL_QUEUE'] else 'off'}).")
    delivery = worker.run(once=once)
    click.echo(f"{delivery.sent} mails sent, {delivery.failed} failed and waiting to be tried again.")


@click.command("export-call")
@click.argument("call_id", metavar="CALL", type=int)
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="The archive to write (default: call-CALL-YYYYMMDD.zip here).")
def export_call_command(call_id: int, output: str | None) -> None:
    """Write one archive of call CALL (its data as JSON and CSV, every stored image, the results and the
    timeline) for a records office. It holds the e-mail addresses of the accounts that took part."""
    from contest.archive import ArchiveError, export_call
    from contest.models.types import utcnow

    output = output or f"call-{call_id}-{utcnow():%Y%m%d}.zip"
    try:
        exported = export_call(call_id, output)
    except ArchiveError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.session.rollback()  # it only read
    click.echo(f"Wrote {exported.path}: {sum(exported.rows.values())} rows, {exported.files} files.")


@click.command("import-call")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
def import_call_command(archive: str) -> None:
    """Restore a call from an archive made by export-call, in one transaction. Imported accounts cannot log in
    until their owners reset their passwords by e-mail."""
    from contest.archive import ArchiveError, import_call

    try:
        imported = import_call(archive)
        db.session.commit()
    except ArchiveError as error:
        db.session.rollback()  # and the files already stored are deleted again
        raise click.ClickException(str(error)) from None
    except BaseException:
        db.session.rollback()
        raise
    ids = f"new ids for {', '.join(imported.renumbered)}" if imported.renumbered else "the same ids"
    click.echo(f"Imported call {imported.call_id} with {ids}: {sum(imported.rows.values())} rows, "
               f"{imported.files} files; {imported.users_created} accounts created (each must reset the password "
               f"before logging in), {imported.users_matched} matched by e-mail; {imported.departments_created} "
               f"departments created.")
