"""Who people are: users (residents by openid, staff by username), their names and profiles, role grants
over the area tree, login sessions and sign-in throttles, staffing (who may grant what), and who answers
for a place (`responsible.py`).

May import: core, areas, wechat. Imported by every domain that needs a person or a role.
"""
