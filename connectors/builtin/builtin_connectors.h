#pragma once

// Every connector type of this build, in one registry. A new connector type is a folder under
// connectors/ with a <type>_connector.h that returns its ConnectorType, and one line in
// builtin_connectors.cc.

#include "connectors/registry.h"

namespace presence::connectors {

void RegisterBuiltinConnectors(Registry& registry);
const Registry& BuiltinConnectors();  // filled once, on first use; thread-safe

}  // namespace presence::connectors
