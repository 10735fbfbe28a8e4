#include "privacy/zip_writer.hpp"

#include <array>
#include <chrono>
#include <ctime>
#include <tuple>

namespace framehouse::privacy {
namespace {

constexpr std::uint32_t kLocalSignature = 0x04034b50;
constexpr std::uint32_t kCentralSignature = 0x02014b50;
constexpr std::uint32_t kEndSignature = 0x06054b50;
constexpr std::uint32_t kZip64EndSignature = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr std::uint16_t kVersion = 45;        // ZIP64
constexpr std::uint16_t kUtf8Names = 0x0800;  // general purpose flag bit 11
constexpr std::uint32_t kMax32 = 0xffffffffu;
// Local headers always carry a ZIP64 extra field, so sizes can be patched in whatever they
// turn out to be: 30 fixed bytes, the name, then 4 + 16 bytes of extra.
constexpr std::size_t kLocalFixed = 30;
constexpr std::size_t kLocalExtra = 20;

class Bytes {
 public:
  Bytes& u16(std::uint16_t v) { return put(v, 2); }
  Bytes& u32(std::uint32_t v) { return put(v, 4); }
  Bytes& u64(std::uint64_t v) { return put(v, 8); }
  Bytes& text(const std::string& s) {
    data.append(s);
    return *this;
  }
  std::string data;

 private:
  Bytes& put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) data.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
};

// Slicing-by-8 tables: eight bytes per step (the export's CRC runs over every byte it holds).
const std::array<std::array<std::uint32_t, 256>, 8>& crc_tables() {
  static const auto tables = [] {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (std::uint32_t i = 0; i < 256; ++i) {
      for (int k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    }
    return t;
  }();
  return tables;
}

// Now, as MS-DOS time and date fields.
std::pair<std::uint16_t, std::uint16_t> dos_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  return {static_cast<std::uint16_t>((utc.tm_hour << 11) | (utc.tm_min << 5) | (utc.tm_sec / 2)),
          static_cast<std::uint16_t>(((utc.tm_year - 80) << 9) | ((utc.tm_mon + 1) << 5) | utc.tm_mday)};
}

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size) {
  const auto& t = crc_tables();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (; size >= 8; size -= 8, p += 8) {
    const std::uint32_t low = crc ^ (static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                                     static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24);
    crc = t[7][low & 0xff] ^ t[6][(low >> 8) & 0xff] ^ t[5][(low >> 16) & 0xff] ^ t[4][low >> 24] ^ t[3][p[4]] ^ t[2][p[5]] ^
          t[1][p[6]] ^ t[0][p[7]];
  }
  for (; size > 0; --size) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

ZipWriter::ZipWriter(const std::filesystem::path& file)
    : file_(file), out_(file, std::ios::binary | std::ios::in | std::ios::out | std::ios::trunc) {
  std::tie(dos_time_, dos_date_) = dos_now();
}

sdk::Outcome ZipWriter::failed(const std::string& what) {
  return sdk::Outcome::failure(sdk::Status::unavailable, "cannot " + what + " " + file_.filename().string());
}

sdk::Outcome ZipWriter::write_entry_header(const std::string& name) {
  Bytes header;
  header.u32(kLocalSignature).u16(kVersion).u16(kUtf8Names).u16(0).u16(dos_time_).u16(dos_date_);
  header.u32(0).u32(kMax32).u32(kMax32).u16(static_cast<std::uint16_t>(name.size())).u16(kLocalExtra).text(name);
  header.u16(0x0001).u16(16).u64(0).u64(0);
  out_.write(header.data.data(), static_cast<std::streamsize>(header.data.size()));
  return out_ ? sdk::Outcome{} : failed("write");
}

sdk::Outcome ZipWriter::patch_entry(Entry& entry) {
  const auto end = out_.tellp();
  Bytes crc;
  crc.u32(entry.crc);
  out_.seekp(static_cast<std::streamoff>(entry.offset + 14));
  out_.write(crc.data.data(), 4);
  Bytes sizes;
  sizes.u64(entry.size).u64(entry.size);
  out_.seekp(static_cast<std::streamoff>(entry.offset + kLocalFixed + entry.name.size() + 4));
  out_.write(sizes.data.data(), 16);
  out_.seekp(end);
  return out_ ? sdk::Outcome{} : failed("write");
}

class ZipWriter::EntrySink final : public sdk::ByteSink {
 public:
  explicit EntrySink(ZipWriter& writer) : writer_(writer) {}
  sdk::Outcome write(std::span<const std::byte> data) override {
    auto& entry = *writer_.open_;
    entry.crc = crc32_update(entry.crc, data.data(), data.size());
    entry.size += data.size();
    writer_.out_.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    return writer_.out_ ? sdk::Outcome{} : writer_.failed("write");
  }

 private:
  ZipWriter& writer_;
};

ZipWriter::~ZipWriter() = default;

sdk::Result<sdk::ByteSink*> ZipWriter::begin_entry(const std::string& name) {
  if (open_) return sdk::Outcome::failure(sdk::Status::internal, "an archive entry is still open");
  open_ = Entry{name, 0, 0, static_cast<std::uint64_t>(out_.tellp())};
  if (auto written = write_entry_header(name); !written) return written;
  open_sink_ = std::make_unique<EntrySink>(*this);
  return open_sink_.get();
}

sdk::Outcome ZipWriter::end_entry() {
  if (!open_) return sdk::Outcome::failure(sdk::Status::internal, "no archive entry is open");
  Entry entry = std::move(*open_);
  open_.reset();
  open_sink_.reset();
  if (auto patched = patch_entry(entry); !patched) return patched;
  entries_.push_back(std::move(entry));
  return {};
}

sdk::Outcome ZipWriter::add(const std::string& name, sdk::ByteSource& data) {
  auto sink = begin_entry(name);
  if (!sink) return sink.outcome();
  if (auto copied = sdk::drain(data, [&](std::span<const std::byte> chunk) { return sink.value()->write(chunk); }); !copied) {
    return copied;
  }
  return end_entry();
}

sdk::Outcome ZipWriter::add(const std::string& name, std::string_view data) {
  sdk::BufferSource source{std::string(data)};
  return add(name, source);
}

sdk::Outcome ZipWriter::finish_part(const std::filesystem::path& index_file) {
  std::ofstream index(index_file, std::ios::binary | std::ios::trunc);
  for (const auto& entry : entries_) {
    index << entry.offset << ' ' << entry.size << ' ' << entry.crc << ' ' << entry.name << '\n';
  }
  out_.flush();
  index.flush();
  return out_ && index ? sdk::Outcome{} : failed("finish");
}

std::vector<ZipEntry> read_index(const std::filesystem::path& index_file) {
  std::ifstream index(index_file, std::ios::binary);
  std::vector<ZipEntry> entries;
  ZipEntry entry;
  while (index >> entry.offset >> entry.size >> entry.crc) {
    index.get();
    std::getline(index, entry.name);
    entries.push_back(entry);
  }
  return entries;
}

std::string central_directory(const std::vector<ZipEntry>& entries, std::uint64_t directory_offset) {
  const auto [dos_time, dos_date] = dos_now();
  Bytes out;
  for (const auto& entry : entries) {
    const bool big_size = entry.size >= kMax32;
    const bool big_offset = entry.offset >= kMax32;
    Bytes extra;
    if (big_size) extra.u64(entry.size).u64(entry.size);
    if (big_offset) extra.u64(entry.offset);
    out.u32(kCentralSignature).u16(static_cast<std::uint16_t>((3 << 8) | kVersion)).u16(kVersion).u16(kUtf8Names).u16(0);
    out.u16(dos_time).u16(dos_date).u32(entry.crc);
    out.u32(big_size ? kMax32 : static_cast<std::uint32_t>(entry.size));
    out.u32(big_size ? kMax32 : static_cast<std::uint32_t>(entry.size));
    out.u16(static_cast<std::uint16_t>(entry.name.size()));
    out.u16(static_cast<std::uint16_t>(extra.data.empty() ? 0 : extra.data.size() + 4)).u16(0).u16(0).u16(0);
    out.u32(0100644u << 16).u32(big_offset ? kMax32 : static_cast<std::uint32_t>(entry.offset)).text(entry.name);
    if (!extra.data.empty()) out.u16(0x0001).u16(static_cast<std::uint16_t>(extra.data.size())).text(extra.data);
  }
  const std::uint64_t directory_size = out.data.size();
  const std::uint64_t directory_end = directory_offset + directory_size;
  const bool zip64 = entries.size() >= 0xffff || directory_offset >= kMax32 || directory_size >= kMax32;
  if (zip64) {
    out.u32(kZip64EndSignature).u64(44).u16(static_cast<std::uint16_t>((3 << 8) | kVersion)).u16(kVersion).u32(0).u32(0);
    out.u64(entries.size()).u64(entries.size()).u64(directory_size).u64(directory_offset);
    out.u32(kZip64LocatorSignature).u32(0).u64(directory_end).u32(1);
  }
  const auto count16 = static_cast<std::uint16_t>(zip64 ? 0xffff : entries.size());
  out.u32(kEndSignature).u16(0).u16(0).u16(count16).u16(count16);
  out.u32(zip64 ? kMax32 : static_cast<std::uint32_t>(directory_size));
  out.u32(zip64 ? kMax32 : static_cast<std::uint32_t>(directory_offset)).u16(0);
  return std::move(out.data);
}

sdk::Outcome ZipWriter::finish() {
  const std::string directory = central_directory(entries_, static_cast<std::uint64_t>(out_.tellp()));
  out_.write(directory.data(), static_cast<std::streamsize>(directory.size()));
  out_.close();
  return out_ ? sdk::Outcome{} : failed("finish");
}

}  // namespace framehouse::privacy
