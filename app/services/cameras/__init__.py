"""Cameras and footage requests: the registry (``access``: its declaration and policies;
``registry``, ``near``, ``geo``, ``counts``), the requests (``footage_access``: their
declarations; ``footage``: reads; ``requesting``), each camera's steps (``steps``) and the
chain of custody (``custody``). The registry's service functions are re-exported here for
the routers."""

from app.services.cameras.registry import (
    create_camera,
    delete_camera,
    get_camera,
    list_cameras,
    update_camera,
)

__all__ = ["create_camera", "delete_camera", "get_camera", "list_cameras", "update_camera"]
