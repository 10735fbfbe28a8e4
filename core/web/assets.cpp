#include "web/assets.hpp"

#include <stdexcept>

#include <zlib.h>

#include "crypto/crypto.hpp"

namespace framehouse::web {

std::string content_type_of(std::string_view name) {
  const auto dot = name.rfind('.');
  const std::string_view extension = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  if (extension == "js") return "text/javascript; charset=utf-8";
  if (extension == "css") return "text/css; charset=utf-8";
  if (extension == "svg") return "image/svg+xml";
  if (extension == "json") return "application/json";
  if (extension == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::string gzip(std::string_view bytes) {
  z_stream stream{};
  // 15 + 16: a gzip header and trailer around the deflate stream, as Content-Encoding wants.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, bytes.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");
  return out;
}

Assets::Assets(const std::vector<EmbeddedFile>& files) {
  std::string digest_input;
  for (const auto& file : files) {
    Asset asset{content_type_of(file.name), file.bytes, gzip(file.bytes)};
    if (asset.gzipped.size() >= file.bytes.size()) asset.gzipped.clear();
    assets_.emplace(std::string(file.name), std::move(asset));
  }
  // In name order (the map's), with the sizes, so that no two sets of files read the same.
  for (const auto& [name, asset] : assets_) {
    digest_input += name + '\0' + std::to_string(asset.bytes.size()) + '\0';
    digest_input.append(asset.bytes);
  }
  version_ = crypto::token_hash(digest_input).substr(0, 16);  // SHA-256, hex
}

const Asset* Assets::find(std::string_view name) const {
  const auto found = assets_.find(name);
  return found == assets_.end() ? nullptr : &found->second;
}

std::string Assets::url_of(std::string_view name) const { return "/assets/" + version_ + "/" + std::string(name); }

}  // namespace framehouse::web
