"""Open311 GeoReport v2 (`/open311/v2/`): our report categories as services, cases as service requests, for
platforms such as the 12345 hotline. Clients hold API keys scoped to an area. A front door of its own, like
miniprogram_api and portal, passing the same edge.

May import: core, accounts, areas, cases, geo.
"""
