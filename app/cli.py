"""Flask CLI commands: seed-demo, create-user, run-periodic, doctor, apply-retention and rekey-personal-data."""
from __future__ import annotations

import click
from flask import Flask

from app.accounts.models import ROLES
from app.accounts.service import create_user
from app.core import uow
from app.core.errors import DomainError
from app.demo import DEMO_PASSWORD, seed_demo
from app.health import report
from app.notifications.delivery import delivery_stats
from app.privacy import keys, retention
from app.stats import rollups


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create (or top up) the demo county, its communities, codes, categories and accounts."""
        summary = seed_demo()
        uow.commit()
        click.echo("演示数据已就绪：")
        for line in summary:
            click.echo(f"  {line}")
        click.echo(f"所有演示账号的密码：{DEMO_PASSWORD}")

    @app.cli.command("doctor")
    def doctor_command():
        """Print what /healthz reports, with every notification status counted; exit 1 if anything is wrong."""
        body, database_ok = report()
        click.echo(f"状态：{'正常' if body['status'] == 'ok' else '需要处理'}")
        for name, value in body["checks"].items():
            click.echo(f"  {name}: {value}")
        periodic = body.get("periodic")
        if periodic is not None:
            ago = "从未运行" if periodic["seconds_ago"] is None else f"{periodic['seconds_ago']} 秒前"
            click.echo(f"定时任务最近一次运行（发件箱清扫）：{ago}")
        if database_ok and "notifications" in body:
            stats = delivery_stats(by_status=True)
            oldest = stats["oldest_pending_seconds"]
            click.echo("通知发件箱：")
            click.echo(f"  最早待发通知已等待：{'无待发通知' if oldest is None else f'{oldest} 秒'}")
            click.echo(f"  已取出待发送：{stats['taken']}，发送中：{stats['sending']}，"
                       f"其中停滞：{stats['stuck_in_flight']}")
            click.echo(f"  结果未知（不再重发）：{stats['unknown']}")
            click.echo("  按状态：" + "，".join(f"{k} {v}" for k, v in stats["by_status"].items()))
        for warning in body["warnings"]:
            click.echo(f"警告：{warning}")
        if body["warnings"]:
            raise SystemExit(1)

    @app.cli.command("rebuild-rollups")
    def rebuild_rollups_command():
        """Compute every daily rollup again from the rows (once after upgrading; the periodic job keeps them)."""
        rows = rollups.rebuild_all()
        uow.commit()
        click.echo(f"已重建统计汇总：{rows} 行")

    @app.cli.command("create-user")
    @click.option("--username", required=True)
    @click.option("--password", required=True)
    @click.option("--role", type=click.Choice(ROLES), default=None)
    @click.option("--area-id", type=int, default=None)
    @click.option("--department-id", type=int, default=None)
    @click.option("--name", "display_name", default="")
    def create_user_command(username, password, role, area_id, department_id, display_name):
        """Create a staff account, optionally with one role over an area."""
        try:
            user = create_user(username, password, role=role, area_id=area_id, department_id=department_id,
                               display_name=display_name)
            uow.commit()
        except DomainError as exc:
            uow.rollback()
            raise click.ClickException(f"{exc.message} {exc.errors or ''}".strip()) from exc
        click.echo(f"已创建用户 {user.username}（id={user.id}）" + (f"，角色 {role}" if role else ""))

    @app.cli.command("apply-retention")
    def apply_retention_command():
        """Apply the retention periods to every kind of record until nothing is due, committing batch by batch."""
        totals: dict[str, int] = {}
        while True:
            report = retention.run(budget_seconds=10)
            uow.commit()
            for kind, count in report["handled"].items():
                totals[kind] = totals.get(kind, 0) + count
            if report["finished"]:
                break
        click.echo("保存期限处理完毕：")
        for policy in retention.POLICIES:
            click.echo(f"  {policy.label}（{retention.months_for(policy)} 个月）：{totals.get(policy.kind, 0)} 条")

    @app.cli.command("rekey-personal-data")
    @click.option("--batch", default=500, show_default=True)
    def rekey_command(batch):
        """Re-encrypt every stored personal datum under the first DATA_KEY (after adding a new key in front)."""
        try:
            done = keys.rekey(batch, after_batch=uow.commit)
        except DomainError as exc:
            uow.rollback()
            raise click.ClickException(exc.message) from exc
        uow.commit()
        click.echo("已用当前密钥重新加密：")
        for column, count in done.items():
            click.echo(f"  {column}: {count}")
