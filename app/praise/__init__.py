"""Praise (我要点赞): for grid workers, party members, merchants and places."""
