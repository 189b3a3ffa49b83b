"""Suggestions to representatives (两代表一委员, 人民建议征集): answers, referrals, the public board.

May import: core, accounts, areas, media, notifications, wechat.
"""
