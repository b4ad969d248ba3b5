"""Job execution: the in-process engine that runs checks on schedule and on demand."""
