"""render: ``BuildPlan`` → files (Dockerfile, .dockerignore, compose, Apptainer definition)."""
