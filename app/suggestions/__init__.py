"""Suggestions to representatives (两代表一委员, 人民建议征集)."""
