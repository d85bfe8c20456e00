"""Containers: build images of apps and plugins from a Dockerfile template and run them with safe defaults.

Everything goes through the docker SDK (``docker.from_env()``), so Docker and Podman's
Docker-compatible API both work. No registry is contacted: base images are built locally and
wheels are copied in and installed with ``pip --no-index``.
"""
