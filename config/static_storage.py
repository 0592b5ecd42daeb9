"""The static files' storage: content-hashed names, compressed copies, rewritten module imports."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's storage (hashed names from Django's manifest, gzip and Brotli copies), with
    Django's rewriting of ES module imports turned on: `import ... from "./x.js"` becomes
    `"./x.3f2a....js"`, so a module cached forever only ever imports the modules it was
    deployed with (docs/DECISIONS.md)."""

    support_js_module_import_aggregation = True
