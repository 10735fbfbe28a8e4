// Reads the entries of a ZIP archive in memory (stored entries, as the server writes them),
// through its central directory — an independent check of what the server's writer produced.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

namespace framehouse::testing {

inline std::map<std::string, std::string> read_zip(const std::string& archive) {
  auto u16 = [&](std::size_t at) { return static_cast<unsigned>(static_cast<unsigned char>(archive.at(at))) |
                                          static_cast<unsigned>(static_cast<unsigned char>(archive.at(at + 1))) << 8; };
  auto u32 = [&](std::size_t at) { return u16(at) | static_cast<std::uint32_t>(u16(at + 2)) << 16; };
  const std::size_t end = archive.rfind(std::string("PK\x05\x06", 4));
  if (end == std::string::npos) throw std::runtime_error("no end of central directory");
  std::size_t at = u32(end + 16);
  const unsigned count = u16(end + 10);
  std::map<std::string, std::string> entries;
  for (unsigned i = 0; i < count; ++i) {
    if (u32(at) != 0x02014b50) throw std::runtime_error("bad central directory entry");
    const unsigned method = u16(at + 10);
    const std::uint32_t size = u32(at + 20);
    const unsigned name_length = u16(at + 28), extra_length = u16(at + 30), comment_length = u16(at + 32);
    const std::uint32_t local = u32(at + 42);
    const std::string name = archive.substr(at + 46, name_length);
    if (method != 0) throw std::runtime_error("entry " + name + " is not stored");
    if (u32(local) != 0x04034b50) throw std::runtime_error("bad local header for " + name);
    const std::size_t data = local + 30 + u16(local + 26) + u16(local + 28);
    entries[name] = archive.substr(data, size);
    at += 46 + name_length + extra_length + comment_length;
  }
  return entries;
}

}  // namespace framehouse::testing
