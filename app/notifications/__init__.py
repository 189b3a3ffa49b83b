"""The transactional outbox of notifications, the in-app inbox, subscriptions and quotas, and delivery to
WeChat (run by the jobs in tasks/notify.py, queued by name through app.jobs).

May import: core, accounts, wechat, jobs.
"""
