"""Flask CLI commands: seed-demo and create-user."""
from __future__ import annotations

import click
from flask import Flask

from app.accounts.models import ROLES
from app.core import uow


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create (or top up) the demo county, its communities, codes, categories and accounts."""
        from app.demo import DEMO_PASSWORD, seed_demo

        summary = seed_demo()
        uow.commit()
        click.echo("演示数据已就绪：")
        for line in summary:
            click.echo(f"  {line}")
        click.echo(f"所有演示账号的密码：{DEMO_PASSWORD}")

    @app.cli.command("run-periodic")
    @click.option("--only", default=None, help="Run just this job (its function name).")
    def run_periodic_command(only):
        """Run every periodic job once, inline. For a machine without Redis (no `rq cron`), call this from cron."""
        from tasks.periodic import PERIODIC

        for entry in PERIODIC:
            if only and entry.name != only:
                continue
            result = entry.func()
            click.echo(f"{entry.name}: {result}")

    @app.cli.command("create-user")
    @click.option("--username", required=True)
    @click.option("--password", required=True)
    @click.option("--role", type=click.Choice(ROLES), default=None)
    @click.option("--area-id", type=int, default=None)
    @click.option("--department-id", type=int, default=None)
    @click.option("--name", "display_name", default="")
    def create_user_command(username, password, role, area_id, department_id, display_name):
        """Create a staff account, optionally with one role over an area."""
        from app.accounts.service import create_user
        from app.core.errors import DomainError

        try:
            user = create_user(username, password, role=role, area_id=area_id, department_id=department_id,
                               display_name=display_name)
            uow.commit()
        except DomainError as exc:
            uow.rollback()
            raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from exc
        click.echo(f"已创建用户 {user.username}（id={user.id}）" + (f"，角色 {role}" if role else ""))
