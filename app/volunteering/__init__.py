"""Volunteer activities, attendance, the service-hours ledger (志愿服务记录, the one record of every hour of
service) with its corrections, and the proofs issued by the recording organisation (志愿服务证明).

May import: core, accounts, areas, notifications. Imported by members and wishes (they credit and read
the ledger).
"""
