"""Party members who report to their community (在职党员双报到): registration, review and the roster.
Their record of service (纪实), the employer report (双报告) and the rankings live in app/records.

May import: core, accounts, areas, notifications.
"""
