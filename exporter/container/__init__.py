"""What runs only inside the container image: the entrypoint's decision and the HEALTHCHECK probe."""
