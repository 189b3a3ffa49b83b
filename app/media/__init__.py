"""Uploaded images: size-checked, decoded, re-encoded without EXIF, resized, thumbnailed.

May import: core only.
"""
