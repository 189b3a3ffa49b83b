"""积分制 (points): schemes, households, the points ledger, rankings and the points supermarket."""
