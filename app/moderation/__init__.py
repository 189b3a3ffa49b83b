"""Moderation: the items that app/content_safety held (text and images), their review by staff in the
queue (release or hide, with a reason, told to the author), and residents' abuse reports (举报).

May import: core, content_safety, notifications.
"""
