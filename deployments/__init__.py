"""Running the product as a service: `sdb-agent serve`, the HTTP app, the local Prefect server."""
