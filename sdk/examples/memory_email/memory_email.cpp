// The plugin's one entry point; the plugin itself is in memory_email.hpp.
#include "memory_email.hpp"

FRAMEHOUSE_PLUGIN_ENTRY(memory_email_example::MemoryEmail)
