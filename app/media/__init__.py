"""Uploaded images: decoded, re-encoded without EXIF, resized, thumbnailed."""
