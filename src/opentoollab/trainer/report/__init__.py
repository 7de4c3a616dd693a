"""``python datasets report``: a static HTML site (overview, sample browser, rejects) for corpora, mixes and runs.

Owns: inputs (``inputs``: NAME|FILE specs, manifests, rejects, stored tags), the per-sample pass
(``scan``), chat-template views (``views``), the charts every report draws (``charts``, also
``python tag report``'s PNG via ``tagpage``), the pages (``pages``, templates and scripts under
``assets/``) and the builder (``site``). It sits in ``trainer`` because it reads tags and renders
chat templates.
May import: ``opentoollab.trainer``, ``opentoollab.tag``, ``opentoollab.datasets``, ``opentoollab.format``.
"""

from .inputs import Input, resolve
from .site import SiteError, build_site
from .views import Model, load_models

__all__ = ["Input", "Model", "SiteError", "build_site", "load_models", "resolve"]
