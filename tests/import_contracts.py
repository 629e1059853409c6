"""An import-linter contract of our own: `lint-imports` sees modules, and `from flask import request` imports the
module `flask`, which the domain may use (`current_app` for configuration). This contract reads the imported names."""
import ast
import re

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules


class ForbiddenNamesContract(Contract):
    """Source modules (and their descendants) must not import these names, written `package.name`
    (e.g. `flask.request`); the packages must be external ones (include_external_packages)."""

    type_name = "forbidden_names"
    source_modules = fields.SetField(subfield=fields.ModuleExpressionField())
    forbidden_names = fields.SetField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        forbidden = {tuple(name.rsplit(".", 1)) for name in self.forbidden_names}
        packages = {package for package, _ in forbidden}
        found = []
        for source in sorted(module_expressions_to_modules(graph, self.source_modules), key=lambda m: m.name):
            for importer in sorted({source.name} | graph.find_descendants(source.name)):
                for package in sorted(packages & graph.find_modules_directly_imported_by(importer)):
                    for detail in graph.get_import_details(importer=importer, imported=package):
                        names = _imported_names(detail["line_contents"], package)
                        found += [(importer, detail["line_number"], f"{package}.{name}")
                                  for name in sorted(names) if (package, name) in forbidden]
        return ContractCheck(kept=not found, warnings=[], metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, line, name in check.metadata["found"]:
            output.print_error(f"{importer} (l.{line}) imports {name}", bold=False)
        output.new_line()


def _imported_names(line: str, package: str) -> set[str]:
    """The names a `from package import a, b as c` line imports (the first line of a parenthesised one too)."""
    text = line.strip().rstrip("(\\").rstrip()
    try:
        statement = ast.parse(text).body[0]
    except (SyntaxError, IndexError):
        match = re.match(rf"from {re.escape(package)} import \(?(.*)", text)
        return {part.split(" as ")[0].strip() for part in match.group(1).split(",")} if match else set()
    if isinstance(statement, ast.ImportFrom) and statement.module == package:
        return {alias.name for alias in statement.names}
    return set()
