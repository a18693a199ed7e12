"""The warehouse schema: its tables, engines and sessions, and the migrations that create it."""
