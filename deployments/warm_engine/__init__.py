"""A warm engine for process workers: one process that has imported Prefect and the flows
forks each flow run the worker starts, where a new interpreter would import them again (about
4 of a run's 5-6 CPU seconds). The worker's command is a small client that passes the run's
arguments, environment and standard streams over a Unix socket and waits for the run's exit;
without the socket it becomes the plain `python -m prefect.engine`."""
