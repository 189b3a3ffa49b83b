"""Is this text safe: the one rule, per kind of user text (report, praise, message, wish, suggestion,
names…), for whether it is published, held for review or refused (`policy.py`), with WeChat's
msgSecCheck where the author has an openid. The hold queue that staff work through is app/moderation.

May import: core, wechat. Imported by every domain that takes text from people.
"""
