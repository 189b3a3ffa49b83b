"""Micro-wishes (微心愿): posted by residents, reviewed by the community, claimed by or dispatched to party
members, fulfilled, confirmed and rated (三单制), with candidate matching.

May import: core, accounts, areas, media, notifications, members, volunteering (it credits the ledger).
"""
