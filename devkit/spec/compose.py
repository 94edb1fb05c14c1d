"""Changing an endpoint's recipe the way the ``az ml`` verbs change an endpoint.

``online-deployment create -f green.yml -e E`` adds green to E and leaves blue alone;
``--all-traffic`` gives it 100%; ``online-deployment update -n blue -e E --set ...``
overrides one field of one deployment; ``online-endpoint update --traffic`` sets the
weights; ``online-deployment delete`` removes one. Each function here takes the running
endpoint's spec (with its :class:`~devkit.spec.recipe.Recipe`) and returns the new recipe;
nothing runs and nothing is written, so a bad change is refused before anything moves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace

from devkit.errors import SpecError
from devkit.spec.loader import load_recipe
from devkit.spec.model import Endpoint
from devkit.spec.recipe import Recipe, SpecFile
from devkit.spec.references import AssetLookup


def extend(base: Endpoint | None, addition: Recipe, *, all_traffic: bool = False,
           assets: AssetLookup | None = None) -> Recipe:
    """``addition`` (deployment files, perhaps with an endpoint file) applied to ``base``
    (the running endpoint, or None). Deployment files alone join ``base``: one with the
    name of an existing deployment replaces it, the others are added, the rest of
    ``base`` is untouched. An endpoint file in ``addition`` makes it the whole spec.
    ``all_traffic`` sends 100% of live traffic to the added deployment."""
    if base is None or base.recipe is None or addition.endpoint.path is not None:
        recipe = addition
    else:
        names = [d.name for d in load_recipe(
            replace(addition, endpoint=SpecFile(None), name=base.name), assets).deployments]
        current = _named(base)
        kept = [f for name, f in current.items() if name not in names]
        # The name goes to every document: the added ones may name no endpoint (-e).
        recipe = replace(base.recipe, deployments=tuple(kept) + addition.deployments,
                         endpoint=base.recipe.endpoint.with_sets(*addition.endpoint.sets),
                         name=base.name)
    if all_traffic:
        added = [d.name for d in load_recipe(recipe, assets).deployments
                 if addition.deployments and d.source.file == addition.deployments[-1].path]
        if not added:
            raise SpecError("--all-traffic needs a deployment file to send the traffic to; "
                            "pass one with -f")
        recipe = set_traffic(recipe, {added[-1]: 100})
    return recipe


def override_deployment(base: Endpoint, deployment: str, sets: Sequence[str],
                        file: SpecFile | None = None) -> Recipe:
    """``online-deployment update -n D -e E [-f D.yml] --set ...``: D's overrides (or its
    file) changed, every other deployment as it was."""
    recipe = _recipe(base)
    current = _named(base)
    if deployment not in current:
        raise _no_deployment(base, deployment)
    chosen = file if file is not None else current[deployment]
    chosen = chosen.with_sets(*sets)
    files = tuple(chosen if name == deployment else f for name, f in current.items())
    return replace(recipe, deployments=files)


def remove_deployment(base: Endpoint, deployment: str) -> Recipe:
    """``online-deployment delete``: refused while the deployment has live traffic, as
    Azure refuses it; its 0% entries leave the traffic maps."""
    recipe = _recipe(base)
    current = _named(base)
    if deployment not in current:
        raise _no_deployment(base, deployment)
    if base.spec.traffic.get(deployment, 0):
        raise SpecError(f"deployment '{deployment}' still receives "
                        f"{base.spec.traffic[deployment]}% of {base.name}'s traffic; move it "
                        f"elsewhere first (`devkit ml online-endpoint update -n {base.name} "
                        "--traffic \"OTHER=100\"`)")
    recipe = replace(recipe, deployments=tuple(f for name, f in current.items()
                                               if name != deployment))
    traffic = {k: v for k, v in base.spec.traffic.items() if k != deployment}
    mirror = {k: v for k, v in base.spec.mirror_traffic.items() if k != deployment}
    return set_traffic(recipe, traffic, mirror)


def set_traffic(recipe: Recipe, traffic: Mapping[str, int] | None,
                mirror: Mapping[str, int] | None = None) -> Recipe:
    """The endpoint's ``traffic`` (and ``mirror_traffic``) replaced, as overrides kept in
    the recipe so the next ``up`` applies them again; None leaves one as it is."""
    sets = []
    if traffic is not None:
        sets.append(f"traffic={json.dumps(dict(traffic))}")
    if mirror is not None:
        sets.append(f"mirror_traffic={json.dumps(dict(mirror))}")
    return replace(recipe, endpoint=recipe.endpoint.with_sets(*sets))


def _recipe(base: Endpoint) -> Recipe:
    if base.recipe is None:  # pragma: no cover - every loaded Endpoint carries one
        raise SpecError(f"devkit does not know how endpoint '{base.name}' was assembled; "
                        "bring it up again with `devkit up`")
    return base.recipe


def _named(base: Endpoint) -> dict[str, SpecFile]:
    """The recipe's deployment files by deployment name (they load in recipe order)."""
    recipe = _recipe(base)
    return {d.name: f for d, f in zip(base.deployments, recipe.deployments, strict=True)}


def _no_deployment(base: Endpoint, deployment: str) -> SpecError:
    names = ", ".join(d.name for d in base.deployments) or "none"
    return SpecError(f"endpoint '{base.name}' has no deployment '{deployment}' "
                     f"(deployments: {names}); pick one of those")
