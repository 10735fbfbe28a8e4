// A ZIP archive written entry by entry to a local file, stored (not deflated: the videos and
// images in an export are compressed already), with ZIP64 where sizes or offsets need it.
// Entries are streamed: memory stays flat however large they are. Runs of entries written
// separately ("parts", with an index) are joined by concatenating them and appending one
// central directory (central_directory()), so their data is never copied into a new file.
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

struct ZipEntry {
  std::string name;
  std::uint32_t crc = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // of its local header
};

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
  // Ends a part: the entries stay without a central directory, and their index (read_index())
  // is written to `index_file`.
  sdk::Outcome finish_part(const std::filesystem::path& index_file);
  // Writes the central directory; the archive is complete.
  sdk::Outcome finish();

  std::size_t entry_count() const { return entries_.size(); }

 private:
  using Entry = ZipEntry;
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

// The entries of a part, with offsets relative to the part's start.
std::vector<ZipEntry> read_index(const std::filesystem::path& index_file);
// The central directory and end records for `entries` (absolute offsets) when the directory
// itself starts at `directory_offset`: what ends an archive.
std::string central_directory(const std::vector<ZipEntry>& entries, std::uint64_t directory_offset);

// CRC-32 (ISO-HDLC), as ZIP uses it; `crc` carries the running value between chunks.
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size);

}  // namespace framehouse::privacy
