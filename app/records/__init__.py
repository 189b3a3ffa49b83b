"""The record of a party member's service (纪实), the employer report (双报告, CSV and PDF) and the
community ranking, read from approved ledger entries only (DESIGN: the ledger is the record).

May import: core, accounts, areas, members, wishes, volunteering, praise. Imported by the front doors.
"""
