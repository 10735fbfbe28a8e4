#include "http/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace framehouse::http {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The value of `key` in a header's parameters (`; key="value"` or `; key=value`).
std::optional<std::string> parameter(std::string_view header, std::string_view key) {
  const std::string lowered = lower(header);
  std::size_t at = 0;
  while ((at = lowered.find(std::string(key) + "=", at)) != std::string::npos) {
    const bool starts_word = at == 0 || lowered[at - 1] == ';' || lowered[at - 1] == ' ';
    at += key.size() + 1;
    if (!starts_word) continue;
    if (at < header.size() && header[at] == '"') {
      const auto end = header.find('"', at + 1);
      if (end == std::string_view::npos) return std::nullopt;
      return std::string(header.substr(at + 1, end - at - 1));
    }
    const auto end = header.find(';', at);
    std::string value(header.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
    while (!value.empty() && value.back() == ' ') value.pop_back();
    return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<FormPart>> parse_multipart(const Request& request) {
  const std::string_view content_type = request.header("content-type").value_or("");
  if (lower(content_type.substr(0, content_type.find(';'))) != "multipart/form-data") return std::nullopt;
  const auto boundary = parameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) return std::nullopt;
  const std::string delimiter = "--" + *boundary;
  const std::string_view body = request.body;

  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return std::nullopt;
  std::vector<FormPart> parts;
  for (;;) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") return parts;  // the closing delimiter
    if (body.substr(at, 2) != "\r\n") return std::nullopt;
    at += 2;
    const auto headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos) return std::nullopt;
    FormPart part;
    part.content_type = "text/plain";
    std::string_view headers = body.substr(at, headers_end - at);
    while (!headers.empty()) {
      const auto line_end = headers.find("\r\n");
      const std::string_view line = headers.substr(0, line_end);
      const auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        const std::string name = lower(line.substr(0, colon));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (name == "content-disposition") {
          part.name = parameter(value, "name").value_or("");
          part.filename = parameter(value, "filename");
        } else if (name == "content-type") {
          part.content_type = std::string(value);
        }
      }
      if (line_end == std::string_view::npos) break;
      headers.remove_prefix(line_end + 2);
    }
    const std::size_t data_start = headers_end + 4;
    const auto next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string_view::npos) return std::nullopt;
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(std::move(part));
    at = next + 2;
  }
}

}  // namespace framehouse::http
