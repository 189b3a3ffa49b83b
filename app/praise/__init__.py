"""Praise (我要点赞) for grid workers, party members, merchants and places, and the public wall.

May import: core, accounts, areas, codes, contact, notifications.
"""
