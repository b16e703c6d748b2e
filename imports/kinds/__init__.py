"""The import's kinds of generation (one per model-calling stage), declared where the import
lives. Background only: an empty `path`, so no socket endpoint. `ImportsConfig.ready` imports
this package, which registers them with `ai_chat.kinds.registry`."""

from imports.kinds.import_document import ImportDocumentKind
from imports.kinds.import_module import ImportModuleKind
from imports.kinds.import_pathways import ImportPathwaysKind

NAMES = (ImportDocumentKind.name, ImportPathwaysKind.name, ImportModuleKind.name)
