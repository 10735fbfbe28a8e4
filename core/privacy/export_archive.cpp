#include "privacy/export_archive.hpp"

#include <cstring>
#include <fstream>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace framehouse::privacy {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

sdk::Outcome abandoned_failure() {
  return sdk::Outcome::failure(sdk::Status::timeout, "the export was abandoned after its timeout");
}

fs::path dataset_file(const fs::path& directory, const std::string& participant, const std::string& dataset) {
  return directory / (participant + "." + safe_entry_name(dataset) + ".jsonl");
}

// What each dataset of the core holds, for the README. Plugins describe their own in their
// documentation; the README says so.
const std::map<std::string, std::string>& dataset_descriptions() {
  static const std::map<std::string, std::string> descriptions = {
      {"account", "your account: id, email address, name, role, when your email was verified, when the age check passed"},
      {"credentials", "your sessions and API keys: when created and last used, client or label (never the secret itself)"},
      {"preferences", "your communication and data-use choices as they stand"},
      {"preference_history", "every change to those choices: what, when, and from where (settings, unsubscribe link, ...)"},
      {"previous_email_addresses", "addresses your account had before a change you confirmed, and when each was replaced"},
      {"policy_notices", "which versions of the privacy policy you were told about by mail, and when"},
      {"policy_acknowledgements", "which versions of the privacy policy you acknowledged, and when"},
      {"unsubscribe_links", "which one-click unsubscribe links were mailed to you (category and time; never the link)"},
      {"disclosures", "disclosures of your data on a legal request: to whom, on what basis, which data, when"},
      {"usage_events", "how you used the service: type of event and time (kept 13 months)"},
      {"images", "images you uploaded (the files themselves are under files/)"},
      {"videos", "videos you asked for: prompt, size, length, seed, status, times"},
      {"subscription", "your plan, its status and renewal"},
      {"payment_account", "the payment processor's ids for you (customer, subscription) and what it last said about your subscription"},
      {"privacy_requests", "your earlier privacy requests and their outcome"},
      {"objects", "the files the storage backend holds for you (under files/)"},
      {"messages", "email sent to you by this service (the messages themselves are under files/)"},
      {"customers", "what the payment processor keeps about you"},
      {"stripe_customer", "the customer record Stripe keeps about you (the card itself is only at Stripe)"},
      {"auto_renew", "whether your subscription renews automatically"},
      {"work_files", "temporary files of a video being rendered"},
      {"queued_jobs", "work about you the service queued (mostly email to you): what it is for, its state, when"},
  };
  return descriptions;
}

}  // namespace

std::string safe_entry_name(std::string_view name) {
  std::string out;
  std::string component;
  auto flush = [&] {
    if (component.empty() || component == "." || component == "..") {
      component.clear();
      return;
    }
    out += (out.empty() ? "" : "/") + component;
    component.clear();
  };
  for (char c : name) {
    if (c == '/' || c == '\\') {
      flush();
    } else {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-' || c == '+';
      component += ok ? c : '_';
    }
  }
  flush();
  return out.empty() ? "unnamed" : out;
}

fs::path PartWriter::part_file(const fs::path& directory, const std::string& participant) {
  return directory / (participant + ".part");
}

fs::path PartWriter::index_file(const fs::path& directory, const std::string& participant) {
  return directory / (participant + ".index");
}

PartWriter::PartWriter(fs::path directory, std::string participant, std::optional<storage::DataKey> subject_key)
    : directory_(std::move(directory)),
      participant_(std::move(participant)),
      key_(subject_key),
      zip_(directory_ / (participant_ + ".part.tmp")) {
  // A retry starts over: what an earlier, failed attempt wrote goes first.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory_, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(participant_ + ".", 0) == 0 && entry.path().extension() == ".jsonl") fs::remove(entry.path(), ec);
  }
}

sdk::Outcome PartWriter::check_open() const { return abandoned_ ? abandoned_failure() : sdk::Outcome{}; }

void PartWriter::abandon() {
  std::lock_guard lock(mutex_);
  abandoned_ = true;
}

ExportCount PartWriter::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

sdk::Outcome PartWriter::record(std::string_view dataset, std::string_view json_object) {
  std::lock_guard lock(mutex_);
  if (auto open = check_open(); !open) return open;
  boost::system::error_code ec;
  const json::value parsed = json::parse(json_object, ec);
  if (ec || !parsed.is_object()) {
    return sdk::Outcome::failure(sdk::Status::invalid_argument, "participant " + participant_ + " exported a record that is not a JSON object");
  }
  const std::string name(dataset);
  if (count_.datasets.emplace(name, 0).second) dataset_order_.push_back(name);
  std::ofstream out(dataset_file(directory_, participant_, name), std::ios::binary | std::ios::app);
  out << json::serialize(parsed) << '\n';
  if (!out) return sdk::Outcome::failure(sdk::Status::unavailable, "cannot write the export");
  ++count_.datasets[name];
  ++count_.records;
  return {};
}

sdk::Outcome PartWriter::file(std::string_view name, std::string_view, sdk::ByteSource& data) {
  std::lock_guard lock(mutex_);
  if (auto open = check_open(); !open) return open;
  auto entry = zip_.begin_entry("files/" + participant_ + "/" + safe_entry_name(name));
  if (!entry) return entry.outcome();
  // The first chunk tells whether the core sealed this object; if so it is opened on the way.
  std::optional<storage::UnsealingSink> unsealing;
  bool first = true;
  const sdk::Outcome copied = sdk::drain(data, [&](std::span<const std::byte> chunk) -> sdk::Outcome {
    if (first) {
      first = false;
      if (key_ && storage::is_sealed(chunk)) unsealing.emplace(*key_, *entry.value());
    }
    return unsealing ? unsealing->write(chunk) : entry.value()->write(chunk);
  });
  if (!copied) return copied;
  if (unsealing) {
    if (auto finished = unsealing->finish(); !finished) return finished;
  }
  if (auto ended = zip_.end_entry(); !ended) return ended;
  ++count_.files;
  return {};
}

sdk::Outcome PartWriter::finish() {
  std::lock_guard lock(mutex_);
  if (auto open = check_open(); !open) return open;
  // "<participant>.json": {"participant": ..., "<dataset>": [records...], ...}, streamed from
  // the per-dataset files.
  auto entry = zip_.begin_entry(participant_ + ".json");
  if (!entry) return entry.outcome();
  auto put = [&](const std::string& text) {
    return entry.value()->write(std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
  };
  if (auto written = put("{\n  \"participant\": " + json::serialize(json::value(participant_))); !written) return written;
  for (const auto& dataset : dataset_order_) {
    if (auto written = put(",\n  " + json::serialize(json::value(dataset)) + ": ["); !written) return written;
    std::ifstream in(dataset_file(directory_, participant_, dataset), std::ios::binary);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      if (auto written = put((first ? "\n    " : ",\n    ") + line); !written) return written;
      first = false;
    }
    if (auto written = put("\n  ]"); !written) return written;
    in.close();
    fs::remove(dataset_file(directory_, participant_, dataset));
  }
  if (auto written = put("\n}\n"); !written) return written;
  if (auto ended = zip_.end_entry(); !ended) return ended;
  if (auto indexed = zip_.finish_part(index_file(directory_, participant_)); !indexed) return indexed;
  std::error_code ec;
  fs::rename(directory_ / (participant_ + ".part.tmp"), part_file(directory_, participant_), ec);
  if (ec) return sdk::Outcome::failure(sdk::Status::unavailable, "cannot finish the export part: " + ec.message());
  return {};
}

sdk::Outcome CountingSink::record(std::string_view, std::string_view) {
  ++items_;
  return {};
}

sdk::Outcome CountingSink::file(std::string_view, std::string_view, sdk::ByteSource& data) {
  ++items_;
  return sdk::drain(data, [](std::span<const std::byte>) { return sdk::Outcome{}; });
}

namespace {

// Files read one after the other, then a tail held in memory.
class ConcatenatedSource final : public sdk::ByteSource {
 public:
  ConcatenatedSource(std::vector<fs::path> files, std::string tail) : files_(std::move(files)), tail_(std::move(tail)) {}
  sdk::Result<std::size_t> read(std::span<std::byte> buffer) override {
    while (next_file_ <= files_.size()) {
      if (current_.is_open()) {
        current_.read(reinterpret_cast<char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
        if (current_.bad()) return sdk::Outcome::failure(sdk::Status::unavailable, "cannot read an export part");
        if (current_.gcount() > 0) return static_cast<std::size_t>(current_.gcount());
        current_.close();
      }
      if (next_file_ == files_.size()) break;
      current_.open(files_[next_file_++], std::ios::binary);
      if (!current_) return sdk::Outcome::failure(sdk::Status::unavailable, "cannot open an export part");
    }
    next_file_ = files_.size() + 1;
    const std::size_t n = std::min(buffer.size(), tail_.size() - tail_offset_);
    std::memcpy(buffer.data(), tail_.data() + tail_offset_, n);
    tail_offset_ += n;
    return n;
  }

 private:
  std::vector<fs::path> files_;
  std::size_t next_file_ = 0;
  std::ifstream current_;
  std::string tail_;
  std::size_t tail_offset_ = 0;
};

}  // namespace

sdk::Result<Archive> open_archive(const fs::path& directory, const std::vector<ParticipantInfo>& participants,
                                  const std::vector<std::string>& failed, const std::string& request_id, const std::string& contact) {
  const std::string first = "@readme";
  {
    ZipWriter zip(PartWriter::part_file(directory, first));
    std::string readme = fmt::format(
        "# Your data\n\n"
        "This archive answers access request {}. It holds everything this service keeps about you,\n"
        "gathered from every part of the system that stores personal data (\"participants\").\n\n"
        "- `<participant>.json`: one JSON object per participant; each key is a dataset and holds a list of records.\n"
        "- `files/<participant>/`: your original files (images you uploaded, videos made for you, email sent to you).\n"
        "- `processors.json`: each component that received your data, the third party behind it (if any), the\n"
        "  categories of data it received and why.\n\n"
        "Questions: {}\n\n## Datasets\n\n",
        request_id, contact);
    for (const auto& [name, description] : dataset_descriptions()) readme += fmt::format("- `{}`: {}\n", name, description);
    readme += "\nTimes are Unix seconds (UTC). Datasets not listed are described in the documentation of the plugin that exported them.\n";
    if (!failed.empty()) {
      readme += "\n## Incomplete\n\nThese participants could not be read after several attempts; the operator has been alerted:\n";
      for (const auto& name : failed) readme += "- " + name + "\n";
    }
    if (auto added = zip.add("README.md", readme); !added) return added;
    if (auto added = zip.add("processors.json", json::serialize(json::object{{"processors", processors_register(participants)}}));
        !added) {
      return added;
    }
    if (auto finished = zip.finish_part(PartWriter::index_file(directory, first)); !finished) return finished;
  }
  std::vector<fs::path> files;
  std::vector<ZipEntry> entries;
  std::uint64_t offset = 0;
  const auto add_part = [&](const std::string& name) -> sdk::Outcome {
    std::error_code ec;
    const fs::path file = PartWriter::part_file(directory, name);
    const auto size = fs::file_size(file, ec);
    if (ec) return sdk::Outcome::failure(sdk::Status::unavailable, "export part " + name + " is missing");
    for (auto entry : read_index(PartWriter::index_file(directory, name))) {
      entry.offset += offset;
      entries.push_back(std::move(entry));
    }
    files.push_back(file);
    offset += size;
    return {};
  };
  if (auto added = add_part(first); !added) return added;
  for (const auto& participant : participants) {
    if (std::find(failed.begin(), failed.end(), participant.name) != failed.end()) continue;
    if (auto added = add_part(participant.name); !added) return added;
  }
  std::string directory_records = central_directory(entries, offset);
  Archive archive;
  archive.size = offset + directory_records.size();
  archive.source = std::make_unique<ConcatenatedSource>(std::move(files), std::move(directory_records));
  return archive;
}

}  // namespace framehouse::privacy
