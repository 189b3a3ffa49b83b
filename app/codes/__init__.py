"""QR codes on places: issue, disable, rotate, images, print sheets, scan counts, and which place a scene
names (`scenes.py`, the one home of that rule).

May import: core, accounts (roles), areas, wechat, jobs.
"""
