"""A deployment YAML document (Azure ML ``managedOnlineDeployment``) into a DeploymentSpec.

Each block of the Azure schema has one small reader here: the allowed keys, the type and
range of each field, and local paths resolved against the YAML file. Azure keys devkit
has no use for locally (``properties``, ``private_network_connection``...) are accepted
and ignored so that a spec that runs in Azure loads here unchanged; anything else unknown
is an error with a suggestion. ``type: kubernetes`` (Azure's kubernetesOnlineDeployment)
makes ``instance_type`` optional and reads ``resources`` (:mod:`devkit.spec.kubernetes`).
``model:`` / ``environment:`` may be ``azureml:`` references, resolved through an
:class:`~devkit.spec.references.AssetLookup`.
"""

from __future__ import annotations

import dataclasses

from devkit.errors import UnresolvableReference
from devkit.spec.collector import read_data_collector
from devkit.spec.fields import Section
from devkit.spec.kubernetes import read_resources
from devkit.spec.mlflow_model import is_no_code_mlflow, read_mlflow_model
from devkit.spec.model import (
    DEFAULT_INSTANCE_RESOURCES,
    DEFAULT_INSTANCE_TYPE,
    BuildSpec,
    CodeSpec,
    DeploymentSpec,
    DeploymentType,
    EnvironmentSpec,
    InferenceConfig,
    ModelSpec,
    ProbeSettings,
    RequestSettings,
    Resources,
    Route,
    ScaleSettings,
    Source,
)
from devkit.spec.overrides import to_yaml_maps
from devkit.spec.references import (
    AssetKind,
    AssetLookup,
    AssetMissing,
    RegisteredEnvironment,
    RegisteredModel,
    parse_reference,
)
from devkit.spec.yamlsource import YamlMap

# Keys whose presence makes a YAML document a deployment rather than an endpoint.
DEPLOYMENT_MARKERS = frozenset(
    {"endpoint_name", "model", "code_configuration", "environment", "instance_type"})

_COMMON = {"name", "version", "description", "tags", "properties"}
DEPLOYMENT_KEYS = DEPLOYMENT_MARKERS | {
    "$schema", "name", "description", "tags", "properties", "type", "model_mount_path",
    "instance_count", "environment_variables", "request_settings", "liveness_probe",
    "readiness_probe", "scale_settings", "data_collector", "egress_public_network_access",
    "app_insights_enabled", "resources", "private_network_connection",
}
_MODEL_KEYS = _COMMON | {"path", "type", "stage", "flavors"}
MODEL_TYPES = ("custom_model", "mlflow_model", "triton_model")
_ENVIRONMENT_KEYS = _COMMON | {"image", "conda_file", "build", "inference_config", "os_type"}
_CODE_KEYS = {"code", "scoring_script"}
_BUILD_KEYS = {"path", "dockerfile_path"}
_ROUTES = ("liveness_route", "readiness_route", "scoring_route")
_REQUEST_KEYS = {"request_timeout_ms", "max_concurrent_requests_per_instance",
                 "max_queue_wait_ms"}
_PROBE_KEYS = {"initial_delay", "period", "timeout", "success_threshold", "failure_threshold"}
_SCALE_KEYS = {"type", "min_instances", "max_instances", "polling_interval",
               "target_utilization_percentage"}
_ENABLED = ("enabled", "disabled")
# Azure's managed front end refuses request timeouts above three minutes.
MAX_REQUEST_TIMEOUT_MS = 180_000
_MODEL_FIX = "point `model.path` at a local folder"
_REGISTER = {"model": "devkit ml model create --name {name} --version {version} --path "
                      "MODEL_FOLDER (or -f model.yml)",
             "environment": "devkit ml environment create -f environment.yml (naming it "
                            "{name}, version {version})"}


def read_deployment(doc: Section, assets: AssetLookup) -> DeploymentSpec:
    """Build a DeploymentSpec from the root mapping of a deployment file; ``azureml:``
    references resolve through ``assets``."""
    doc.check_keys(DEPLOYMENT_KEYS)
    # Read top to bottom as a user would fix them: identity first, then what it runs.
    name = doc.name("name", example="name: blue")
    endpoint_name = doc.name("endpoint_name", example="endpoint_name: my-endpoint")
    kind = DeploymentType(doc.choice("type", [t.value for t in DeploymentType], "managed"))
    model = _model(doc, assets)
    environment = _environment(doc, model, assets)
    code = _code(doc, environment, model)
    if model is not None and is_no_code_mlflow(model.type, code is not None):
        read_mlflow_model(model.path)  # a folder without a loadable MLmodel fails here
    instance_type, resources = _size(doc, kind)
    return DeploymentSpec(
        name=name,
        endpoint_name=endpoint_name,
        source=Source(doc.file, doc.data.line),
        environment=environment,
        instance_type=instance_type,
        type=kind,
        resources=resources,
        model=model,
        code_configuration=code,
        instance_count=doc.integer("instance_count", 1, minimum=1),
        environment_variables=doc.string_map("environment_variables"),
        request_settings=_request_settings(doc),
        liveness_probe=_probe(doc, "liveness_probe"),
        readiness_probe=_probe(doc, "readiness_probe"),
        scale_settings=_scale_settings(doc),
        data_collector=_data_collector(doc),
        egress_public_network_access=doc.choice("egress_public_network_access", _ENABLED,
                                                "enabled"),
        app_insights_enabled=doc.boolean("app_insights_enabled", False),
        description=doc.text("description"),
        tags=doc.string_map("tags"),
        model_mount_path=doc.text("model_mount_path"),
    )


def _size(doc: Section, kind: DeploymentType) -> tuple[str, Resources | None]:
    """``instance_type`` and, for Kubernetes, ``resources``. A Kubernetes deployment
    without either runs as Azure's ``defaultinstancetype``; managed ones need the SKU."""
    if kind is DeploymentType.MANAGED:
        if doc.has("resources"):
            raise doc.error("resources", "`resources` belongs to Kubernetes deployments; add "
                            "`type: kubernetes` or size the deployment with `instance_type`",
                            at_key=True)
        value = doc.text("instance_type", required=True,
                         example="instance_type: Standard_DS3_v2")
        assert value is not None
        return value, None
    resources = read_resources(doc)
    instance_type = doc.text("instance_type")
    if instance_type is None:
        return DEFAULT_INSTANCE_TYPE, resources or DEFAULT_INSTANCE_RESOURCES
    return instance_type, resources


def _registered(doc: Section, key: str, kind: AssetKind, value: str,
                assets: AssetLookup) -> RegisteredModel | RegisteredEnvironment | None:
    """Resolve an ``azureml:`` string under ``key``; None when ``value`` is not one."""
    ref = parse_reference(value, kind)
    if ref is None:
        return None
    try:
        found = assets.model(ref) if kind == "model" else assets.environment(ref)
    except AssetMissing as exc:
        register = _REGISTER[kind].format(name=ref.name, version=ref.version or 1)
        fix = exc.fix or f"register it with `{register}`"
        raise doc.error(key, f"'{value}' cannot be resolved: {exc}; {fix}",
                        cls=UnresolvableReference) from exc
    return found


def _model(doc: Section, assets: AssetLookup) -> ModelSpec | None:
    value = doc.raw("model")
    if isinstance(value, str):
        found = _registered(doc, "model", "model", value, assets)
        if isinstance(found, RegisteredModel):
            return ModelSpec(path=found.path, name=found.name, version=found.version,
                             type=found.type)
        doc.refuse_reference("model", value, _MODEL_FIX)
        raise doc.error("model", f"a model is a mapping, not the string '{value}'; write "
                        f"`model: {{path: {value}}}`")
    model = doc.section("model", _MODEL_KEYS)
    if model is None:
        return None
    path = model.local_path("path", "any", fix=_MODEL_FIX, example="path: model")
    assert path is not None
    return ModelSpec(path=path, name=model.text("name") or "model",
                     version=model.label("version") or "1",
                     type=model.choice("type", MODEL_TYPES, "custom_model"))


def _environment(doc: Section, model: ModelSpec | None,
                 assets: AssetLookup) -> EnvironmentSpec:
    value = doc.raw("environment")
    if isinstance(value, str):
        found = _registered(doc, "environment", "environment", value, assets)
        if isinstance(found, RegisteredEnvironment):
            return _registered_environment(doc, found)
        doc.refuse_reference("environment", value, "describe the environment inline with "
                             "`image:` and `conda_file:`")
        raise doc.error("environment", f"an environment is a mapping, not the string "
                        f"'{value}'; write `environment: {{image: {value}}}`")
    # A no-code MLflow deployment may leave the environment to devkit, as Azure does.
    no_code = model is not None and model.type == "mlflow_model"
    env = doc.section("environment", _ENVIRONMENT_KEYS, required=not no_code,
                      example="environment: {image: ..., conda_file: ...}")
    if env is None:
        return EnvironmentSpec()
    return read_environment(env)


def _registered_environment(doc: Section, found: RegisteredEnvironment) -> EnvironmentSpec:
    """A registered environment, read by the same rules as an inline one; its paths are
    absolute, so the section's file only names it in messages."""
    data = YamlMap(line=doc.data.value_line("environment"))
    data.update(to_yaml_maps(dict(found.spec)))
    shown = f"{doc.shown} (environment {found.name}:{found.version} from {found.origin})"
    env = Section(data, doc.file, shown, "environment")
    env.check_keys(_ENVIRONMENT_KEYS)
    spec = read_environment(env)
    return dataclasses.replace(spec, name=found.name, version=found.version)


def read_environment(env: Section) -> EnvironmentSpec:
    """One environment mapping (inline in a deployment, or an environment.yml)."""
    if env.has("image") and env.has("build"):
        raise env.error("build", "an environment takes either `image` or `build`, not both; "
                        "remove one of them", at_key=True)
    image = env.text("image")
    build = _build(env)
    if image is None and build is None:
        raise env.error(None, "the environment names no image; add `image:` (with an "
                        "optional `conda_file:`) or a `build:` block")
    conda = env.local_path("conda_file", "file", required=False,
                           fix="put the conda file next to the YAML")
    if conda is not None and build is not None:
        raise env.error("conda_file", "`conda_file` cannot be combined with `build`; install "
                        "the packages in the Dockerfile instead", at_key=True)
    return EnvironmentSpec(image=image, conda_file=conda, build=build,
                           inference_config=_inference_config(env),
                           name=env.text("name"), version=env.label("version"))


def _build(env: Section) -> BuildSpec | None:
    build = env.section("build", _BUILD_KEYS)
    if build is None:
        return None
    context = build.local_path("path", "dir", fix="point `build.path` at a local folder",
                               example="path: docker-context")
    assert context is not None
    dockerfile = build.text("dockerfile_path") or "Dockerfile"
    build.local_path("dockerfile_path", "file", base=context, required=False,
                     fix="point `dockerfile_path` at a local file")
    if not build.has("dockerfile_path") and not (context / dockerfile).is_file():
        raise build.error("path", f"the build context {context} has no Dockerfile; add one "
                          "or set `dockerfile_path`")
    return BuildSpec(path=context, dockerfile_path=dockerfile)


def _inference_config(env: Section) -> InferenceConfig | None:
    config = env.section("inference_config", _ROUTES)
    if config is None:
        return None
    routes: list[Route] = []
    for key in _ROUTES:
        route = config.section(key, {"port", "path"}, required=True,
                               example=f"{key}: {{port: 8080, path: /}}")
        assert route is not None
        path = route.text("path", required=True, example="path: /")
        assert path is not None
        if not path.startswith("/"):
            raise route.error("path", f"'{path}' must start with '/'; write it like /{path}")
        route.raw("port", required=True, example="port: 8080")
        routes.append(Route(port=route.integer("port", 8080, minimum=1, maximum=65535),
                            path=path))
    return InferenceConfig(*routes)


def _code(doc: Section, environment: EnvironmentSpec,
          model: ModelSpec | None) -> CodeSpec | None:
    value = doc.raw("code_configuration")
    optional = environment.is_byoc or (model is not None and model.type == "mlflow_model")
    example = "code_configuration: {code: ., scoring_script: score.py}"
    if isinstance(value, str):
        doc.refuse_reference("code_configuration", value, "point `code_configuration.code` "
                             "at a local folder")
        raise doc.error("code_configuration", "code_configuration is a mapping; write "
                        "`code_configuration: {code: ., scoring_script: score.py}`")
    code = doc.section("code_configuration", _CODE_KEYS, required=not optional,
                       example=example)
    if code is None:
        return None
    root = code.local_path("code", "dir", fix="point `code_configuration.code` at a local "
                           "folder", example="code: .")
    script = code.text("scoring_script", required=True, example="scoring_script: score.py")
    assert root is not None and script is not None
    code.local_path("scoring_script", "file", base=root,
                    fix="put the scoring script in the code folder")
    return CodeSpec(code=root, scoring_script=script)


def _request_settings(doc: Section) -> RequestSettings:
    section = doc.section("request_settings", _REQUEST_KEYS)
    if section is None:
        return RequestSettings()
    defaults = RequestSettings()
    return RequestSettings(
        request_timeout_ms=section.integer("request_timeout_ms", defaults.request_timeout_ms,
                                           minimum=1, maximum=MAX_REQUEST_TIMEOUT_MS),
        max_concurrent_requests_per_instance=section.integer(
            "max_concurrent_requests_per_instance",
            defaults.max_concurrent_requests_per_instance, minimum=1),
        max_queue_wait_ms=section.integer("max_queue_wait_ms", defaults.max_queue_wait_ms,
                                          minimum=0),
    )


def _probe(doc: Section, key: str) -> ProbeSettings:
    section = doc.section(key, _PROBE_KEYS)
    defaults = ProbeSettings()
    if section is None:
        return defaults
    return ProbeSettings(
        initial_delay=section.integer("initial_delay", defaults.initial_delay, minimum=0),
        period=section.integer("period", defaults.period, minimum=1),
        timeout=section.integer("timeout", defaults.timeout, minimum=1),
        success_threshold=section.integer("success_threshold", defaults.success_threshold,
                                          minimum=1),
        failure_threshold=section.integer("failure_threshold", defaults.failure_threshold,
                                          minimum=1),
    )


def _scale_settings(doc: Section) -> ScaleSettings:
    section = doc.section("scale_settings", _SCALE_KEYS)
    defaults = ScaleSettings()
    if section is None:
        return defaults
    settings = ScaleSettings(
        type=section.choice("type", ("default", "target_utilization"), defaults.type),
        min_instances=section.integer("min_instances", defaults.min_instances, minimum=0),
        max_instances=section.integer("max_instances", defaults.max_instances, minimum=1),
        target_utilization_percentage=section.integer(
            "target_utilization_percentage", defaults.target_utilization_percentage,
            minimum=1, maximum=100),
        polling_interval=section.integer("polling_interval", defaults.polling_interval,
                                         minimum=1),
    )
    if settings.min_instances > settings.max_instances:
        raise section.error("min_instances", f"min_instances ({settings.min_instances}) is "
                            f"above max_instances ({settings.max_instances}); lower it or "
                            "raise max_instances")
    return settings


def _data_collector(doc: Section) -> dict[str, object] | None:
    return read_data_collector(doc)  # devkit.spec.collector owns the block's schema
