"""The area tree (区县 → 街道/乡镇 → 社区/村 → 网格), places under grids, and departments.

May import: core only. Everything else builds on it.
"""
