"""Pure design math for off-grid solar microgrids: weather, PV, loads, dispatch, economics."""
