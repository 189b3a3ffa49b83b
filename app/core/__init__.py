"""Shared machinery with no domain in it: database types and engine settings, errors, inputs, exports,
the workflow tables and timeline, scoping and the role names (`scoping.py`: who may act over an area),
pagination, idempotency, audit, limits, time, ids, the unit of work.

May import: extensions and jobs only. Imported by everything.
"""
