"""The transactional outbox of notifications, the in-app inbox, and delivery to WeChat."""
