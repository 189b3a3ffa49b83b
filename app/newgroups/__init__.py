"""The new groups of employment (新就业群体): couriers, riders and ride-hailing drivers who register with a
community (报到), claim its service posts (岗位), and, as 民情收集员 or 流动网格员, report problems at any place
of the communities they serve; those reports are marked as theirs and enter the ledger as service.

May import: core, accounts, areas, cases, members, notifications, volunteering. Imported by stats and the front doors.
"""
