"""The contacts of a grid (grid worker, police, property) and the 我要联系 message threads.

May import: core, accounts, areas, codes, notifications, wechat.
"""
