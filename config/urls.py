"""Root URLs. App URLconfs are mounted by convention: ``linli.<app>.urls`` at
``/<label>/`` (core at ``/``); an app may also expose ``root_urlpatterns`` for
paths fixed by an outside spec (e.g. Open311's ``/open311/v2/``)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.urls import include, path, re_path

from config.api import api
from linli.core.views import page_not_found

urlpatterns: list[Any] = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("linli.accounts.urls")),
]

for _config in apps.get_app_configs():
    if not _config.name.startswith("linli.") or _config.label in {"core", "accounts"}:
        continue
    try:
        _module = import_module(f"{_config.name}.urls")
    except ModuleNotFoundError as _exc:
        if _exc.name == f"{_config.name}.urls":
            continue
        raise
    urlpatterns.append(path(f"{_config.label}/", include(_module)))
    urlpatterns.extend(getattr(_module, "root_urlpatterns", []))

# Unknown API routes answer in JSON (even with DEBUG on), never with an HTML page.
urlpatterns.append(re_path(r"^api/", page_not_found))
urlpatterns.append(path("", include("linli.core.urls")))

handler404 = "linli.core.views.page_not_found"
handler500 = "linli.core.views.server_error"
