"""Reports (事件): the closed loop from a resident's report to its rating: filing (the hot path, `filing.py`),
the workflow (`states.py`), deadlines, notices, tracking on the portal, the staff desk, exports, retention.

May import: core, accounts, areas, codes, media, notifications, wechat. Not imported by other domains
(stats reads its models).
"""
