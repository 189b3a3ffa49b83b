"""Content safety: one policy for every kind of user text, held items, and their review by staff."""
