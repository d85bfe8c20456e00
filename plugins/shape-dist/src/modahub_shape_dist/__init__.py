"""modahub-shape-dist: rotation-invariant shape distributions of meshes and point clouds through trimesh."""

__version__ = "0.1.2"
