"""Reading back what the flows published, in a client that is closed after the read.

``prefect.artifacts.Artifact.get`` opens a sync client of its own and never closes it (its
``client`` argument is not used), which leaves a socket to the garbage collector: under
``filterwarnings = error`` a ResourceWarning fails some later test at random. Same query,
own client, closed.
"""

from __future__ import annotations

from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.objects import Artifact
from prefect.client.schemas.sorting import ArtifactSort


def latest_artifact(key: str) -> Artifact | None:
    """The newest artifact of ``key`` on the current Prefect API, or None."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            limit=1, sort=ArtifactSort.UPDATED_DESC,
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    return found[0] if found else None
