"""Where things are: the GCJ-02 datum and its WGS-84 edges, boundaries of grids and communities, and routing a
point to the area that holds it.

May import: core, areas. Imported by cases (a located report is routed here), hotline and open311.
"""
