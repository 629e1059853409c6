"""Packaging beyond pyproject.toml: the top-level templates/, static/, translations/ and migrations/ go into the
wheel inside the package, as kivra/_templates, kivra/_static, … — `kivra.resources.resource_dir` finds them there, or
at the top of a source checkout. setuptools wants every folder that holds files as a package, so each subfolder is one too."""
from setuptools import find_namespace_packages, setup

RESOURCES = {  # folder: the files of it that the app reads
    "templates": ["*.html"],
    "static": ["*.css", "*.js"],
    "translations": ["*.mo"],
    "migrations": ["*.py", "*.ini", "*.mako", "README"],
}
NOT_PACKAGES = ["*__pycache__*"]

packages = find_namespace_packages(include=["kivra*"], exclude=NOT_PACKAGES)
package_data = {
    "kivra.payroll": ["fonts/*"],
    "kivra.contract": ["*.yml", "*.json", "LICENSE-*", "_partials/*"],
}
for folder, files in RESOURCES.items():
    for sub in ["", *find_namespace_packages(where=folder, exclude=NOT_PACKAGES)]:
        package = f"kivra._{folder}" + (f".{sub}" if sub else "")
        packages.append(package)
        package_data[package] = files

setup(
    packages=packages,
    package_dir={f"kivra._{folder}": folder for folder in RESOURCES},
    package_data=package_data,
)
