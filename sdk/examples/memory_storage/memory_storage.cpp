// The plugin's one entry point; the plugin itself is in memory_storage.hpp.
#include "memory_storage.hpp"

FRAMEHOUSE_PLUGIN_ENTRY(memory_storage_example::MemoryStorage)
