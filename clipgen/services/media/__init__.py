"""Videos, the processing jobs that turn them into clips, and the clips they make."""
