"""Reference data into the warehouse: boundaries, lookups, postcodes, population, indicators."""
