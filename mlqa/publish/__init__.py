"""Publishing an approved release where the team's own tools read it (a Maven repository)."""
