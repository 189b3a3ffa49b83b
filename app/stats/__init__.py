"""Statistics, dashboards and exports (一张表 / 一表通): figures straight from the records."""
