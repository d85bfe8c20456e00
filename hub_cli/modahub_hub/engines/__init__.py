"""Engines that run an app beyond one process: Ray (Ray Data for bulk runs, Ray Serve for replicas).

Ray is an optional dependency (``pip install 'modahub[ray]'``); nothing here imports it at module
level, so ``modahub --help`` and the local runner never pay for it.
"""
