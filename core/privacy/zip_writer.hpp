// A ZIP archive written entry by entry to a local file, stored (not deflated: the videos and
// images in an export are compressed already), with ZIP64 where sizes or offsets need it.
// Entries are streamed: memory stays flat however large they are. Archives that were written
// separately can be joined with append_archive_entries() without re-reading their data twice.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framehouse/sdk/stream.hpp"

namespace framehouse::privacy {

class ZipWriter {
 public:
  explicit ZipWriter(const std::filesystem::path& file);
  ~ZipWriter();

  // Streams `data` into an entry called `name` (a relative path with '/' separators).
  sdk::Outcome add(const std::string& name, sdk::ByteSource& data);
  // The same, pushed: write the entry's bytes to the returned sink, then call end_entry().
  sdk::Result<sdk::ByteSink*> begin_entry(const std::string& name);
  sdk::Outcome end_entry();
  sdk::Outcome add(const std::string& name, std::string_view data);
  // Copies every entry of another unfinished writer's file (see entries_file()), e.g. one
  // participant's part of an export.
  sdk::Outcome append_part(const std::filesystem::path& part_file, const std::filesystem::path& part_index);
  // Writes the entries (without a central directory) and their index for append_part().
  sdk::Outcome finish_part(const std::filesystem::path& index_file);
  // Writes the central directory; the archive is complete.
  sdk::Outcome finish();

  std::size_t entry_count() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;
    std::uint32_t crc = 0;
    std::uint64_t size = 0;
    std::uint64_t offset = 0;
  };
  class EntrySink;
  sdk::Outcome write_entry_header(const std::string& name);
  sdk::Outcome patch_entry(Entry& entry);
  sdk::Outcome failed(const std::string& what);

  std::filesystem::path file_;
  std::fstream out_;
  std::vector<Entry> entries_;
  std::optional<Entry> open_;
  std::unique_ptr<EntrySink> open_sink_;
  std::uint16_t dos_time_ = 0;
  std::uint16_t dos_date_ = 0;
};

// CRC-32 (ISO-HDLC), as ZIP uses it; `crc` carries the running value between chunks.
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace framehouse::privacy
