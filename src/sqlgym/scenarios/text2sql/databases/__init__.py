"""Generated small-business databases: ``<db_id>.py`` builds the data, ``<db_id>.yaml`` asks about it."""
