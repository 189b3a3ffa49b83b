"""QR codes on places: issue, disable, rotate, images, print sheets and scan counts."""
