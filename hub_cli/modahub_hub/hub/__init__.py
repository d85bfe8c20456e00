"""The modahub hub client: a signed, static registry of plugin wheels and the tools that read and write it.

A hub is a layout, not a service (see DESIGN.md §7): ``registry.json`` with a detached ed25519
signature, the wheels under ``artifacts/``, a PEP 503 ``simple/`` tree and a static ``index.html``.
The same layout lives in a local folder, on a static HTTP host or in a Hugging Face Hub repo
(:mod:`modahub_hub.hub.backends`). :mod:`~modahub_hub.hub.publish` writes it, :mod:`~modahub_hub.hub.install`
reads it; every read is verified (:mod:`~modahub_hub.hub.trust`).
"""

from __future__ import annotations

from modahub.errors import ModahubError, ModahubInputError, ModahubVerificationError

REGISTRY_FILE = "registry.json"  # here, not in registry.py, so reading a hub need not import the pydantic schema



class HubError(ModahubError):
    """A hub operation failed for a reason the user can act on (the message says what and how)."""


class HubVerificationError(HubError, ModahubVerificationError):
    """What the hub served failed a check it must pass: signature, rollback, freeze, size, sha256 or the
    lock's sha256 (exit code 3: nothing was installed or kept)."""


class UnknownPlugin(HubError, ModahubInputError):
    """The hub has no plugin by the name the user gave (exit code 2: a mistake in the input)."""

    def __init__(self, name: str, hub_id: str) -> None:
        super().__init__(f"no plugin {name!r} in {hub_id}", hint="find plugins with 'modahub search' (or --hub another hub)")
