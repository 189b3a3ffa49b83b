"""Contacts of a grid (grid worker, police, property) and the 我要联系 message threads."""
