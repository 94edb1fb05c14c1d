"""Reports the Azure ML environment the script sees."""

import os


def init() -> None:
    pass


def run(data: str) -> object:
    return {name: os.environ.get(name) for name in
            ("AZUREML_MODEL_DIR", "AML_APP_ROOT", "AZUREML_ENTRY_SCRIPT")}
