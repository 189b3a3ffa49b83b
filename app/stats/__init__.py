"""Statistics, dashboards and exports (一张表 / 一表通): figures read from every domain's records, and the
monthly workbooks. It reads the domains; no domain imports it.

May import: core, accounts, areas and every domain package.
"""
