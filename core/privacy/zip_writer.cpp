#include "privacy/zip_writer.hpp"

#include <array>
#include <chrono>
#include <ctime>

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

const std::array<std::uint32_t, 256>& crc_table() {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size) {
  const auto& table = crc_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

ZipWriter::ZipWriter(const std::filesystem::path& file)
    : file_(file), out_(file, std::ios::binary | std::ios::in | std::ios::out | std::ios::trunc) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  dos_time_ = static_cast<std::uint16_t>((utc.tm_hour << 11) | (utc.tm_min << 5) | (utc.tm_sec / 2));
  dos_date_ = static_cast<std::uint16_t>(((utc.tm_year - 80) << 9) | ((utc.tm_mon + 1) << 5) | utc.tm_mday);
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

sdk::Outcome ZipWriter::append_part(const std::filesystem::path& part_file, const std::filesystem::path& part_index) {
  const std::uint64_t base = static_cast<std::uint64_t>(out_.tellp());
  std::ifstream part(part_file, std::ios::binary);
  std::ifstream index(part_index, std::ios::binary);
  if (!part || !index) return failed("read a part of");
  std::array<char, 64 * 1024> buffer;
  while (part) {
    part.read(buffer.data(), buffer.size());
    out_.write(buffer.data(), part.gcount());
  }
  if (!out_) return failed("write");
  Entry entry;
  while (index >> entry.offset >> entry.size >> entry.crc) {
    index.get();
    std::getline(index, entry.name);
    entry.offset += base;
    entries_.push_back(entry);
  }
  return {};
}

sdk::Outcome ZipWriter::finish() {
  const std::uint64_t directory_offset = static_cast<std::uint64_t>(out_.tellp());
  for (const auto& entry : entries_) {
    const bool big_size = entry.size >= kMax32;
    const bool big_offset = entry.offset >= kMax32;
    Bytes extra;
    if (big_size) extra.u64(entry.size).u64(entry.size);
    if (big_offset) extra.u64(entry.offset);
    Bytes header;
    header.u32(kCentralSignature).u16(static_cast<std::uint16_t>((3 << 8) | kVersion)).u16(kVersion).u16(kUtf8Names).u16(0);
    header.u16(dos_time_).u16(dos_date_).u32(entry.crc);
    header.u32(big_size ? kMax32 : static_cast<std::uint32_t>(entry.size));
    header.u32(big_size ? kMax32 : static_cast<std::uint32_t>(entry.size));
    header.u16(static_cast<std::uint16_t>(entry.name.size()));
    header.u16(static_cast<std::uint16_t>(extra.data.empty() ? 0 : extra.data.size() + 4)).u16(0).u16(0).u16(0);
    header.u32(0100644u << 16).u32(big_offset ? kMax32 : static_cast<std::uint32_t>(entry.offset)).text(entry.name);
    if (!extra.data.empty()) header.u16(0x0001).u16(static_cast<std::uint16_t>(extra.data.size())).text(extra.data);
    out_.write(header.data.data(), static_cast<std::streamsize>(header.data.size()));
  }
  const std::uint64_t directory_end = static_cast<std::uint64_t>(out_.tellp());
  const std::uint64_t directory_size = directory_end - directory_offset;
  const bool zip64 = entries_.size() >= 0xffff || directory_offset >= kMax32 || directory_size >= kMax32;
  Bytes end;
  if (zip64) {
    end.u32(kZip64EndSignature).u64(44).u16(static_cast<std::uint16_t>((3 << 8) | kVersion)).u16(kVersion).u32(0).u32(0);
    end.u64(entries_.size()).u64(entries_.size()).u64(directory_size).u64(directory_offset);
    end.u32(kZip64LocatorSignature).u32(0).u64(directory_end).u32(1);
  }
  const auto count16 = static_cast<std::uint16_t>(zip64 ? 0xffff : entries_.size());
  end.u32(kEndSignature).u16(0).u16(0).u16(count16).u16(count16);
  end.u32(zip64 ? kMax32 : static_cast<std::uint32_t>(directory_size));
  end.u32(zip64 ? kMax32 : static_cast<std::uint32_t>(directory_offset)).u16(0);
  out_.write(end.data.data(), static_cast<std::streamsize>(end.data.size()));
  out_.close();
  return out_ ? sdk::Outcome{} : failed("finish");
}

}  // namespace framehouse::privacy
