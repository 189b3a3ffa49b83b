"""积分制 (points): schemes per community (items, the ten monthly indicators, tiers, versions), households
(一户一账), the append-only points ledger and balances, earning (automatically once per source event via
`sources.py`, by application, by monthly evaluation), rankings, the yearly cash-out and the points
supermarket (积分超市).

May import: core, accounts, areas, content_safety, media, notifications. The domains whose events earn points (cases,
wishes, volunteering, praise) call `app.points.sources`; points never imports them.
"""
