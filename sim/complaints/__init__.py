"""The complaints world: efficiency complaints about a hall's units and staff, from intake to closure."""
