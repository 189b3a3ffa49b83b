"""Users, role grants over the area tree, login sessions."""
