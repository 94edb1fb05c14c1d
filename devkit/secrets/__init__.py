"""Secret injection: Azure's ``${{azureml://connections/...}}`` references in a
deployment's ``environment_variables``, resolved locally at replica start.

``refs`` parses references (pure), ``store`` reads the three sources and keeps
``devkit secrets``' store, ``resolve`` turns an endpoint's references into values (or a
:class:`SecretMissing` before anything starts), ``delivery`` hands them to replicas
without putting them anywhere ``docker inspect``, an image or a log could show.
"""

from devkit.secrets.refs import SecretRef, parse_uri, references
from devkit.secrets.resolve import NONE, ResolvedSecrets, SecretMissing, resolve_endpoint

__all__ = ["NONE", "ResolvedSecrets", "SecretMissing", "SecretRef", "parse_uri", "references",
           "resolve_endpoint"]
