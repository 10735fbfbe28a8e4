#include "mail/mailer.hpp"

#include <ctime>

#include <boost/json.hpp>
#include <sodium.h>
#include <soci/soci.h>

#include "crypto/crypto.hpp"

namespace framehouse::mail {
namespace {

std::string rfc5322_date() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return buffer;
}

// "Name <a@b>" -> "a@b"; a bare address stays as it is.
std::string address_of(const std::string& from) {
  const auto open = from.find('<');
  const auto close = from.find('>');
  if (open == std::string::npos || close == std::string::npos || close < open) return from;
  return from.substr(open + 1, close - open - 1);
}

std::string crlf_lines(const std::string& body) {
  constexpr std::size_t kMaxLine = 900;
  std::string out;
  std::size_t line_length = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\r') continue;
    if (c == '\n' || line_length >= kMaxLine) {
      out += "\r\n";
      line_length = 0;
      if (c == '\n') continue;
    }
    out += c;
    ++line_length;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

// RFC 2045 base64: lines of 76 characters.
std::string base64_lines(const std::string& content) {
  std::string encoded(sodium_base64_ENCODED_LEN(content.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), reinterpret_cast<const unsigned char*>(content.data()), content.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(encoded.size() - 1);  // the terminating NUL
  std::string out;
  for (std::size_t at = 0; at < encoded.size(); at += 76) out += encoded.substr(at, 76) + "\r\n";
  return out;
}

constexpr const char* kTextPartHeaders = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n";

}  // namespace

std::string build_rfc5322(const Message& message, const std::string& from, const std::string& message_id) {
  std::string text;
  text += "From: " + from + "\r\n";
  text += "To: " + message.to + "\r\n";
  text += "Subject: " + message.subject + "\r\n";
  text += "Date: " + rfc5322_date() + "\r\n";
  text += "Message-ID: <" + message_id + ">\r\n";
  for (const auto& [name, value] : message.headers) text += name + ": " + value + "\r\n";
  text += "MIME-Version: 1.0\r\n";
  if (message.attachments.empty()) {
    text += kTextPartHeaders;
    text += "\r\n";
    text += crlf_lines(message.body);
    return text;
  }
  // Base64 never contains "=_" and the body would have to contain these 128 random bits: the
  // boundary cannot occur inside a part (RFC 2046 section 5.1.1).
  const std::string boundary = "=_framehouse_" + crypto::random_id("", 16);
  text += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n";
  text += "--" + boundary + "\r\n" + kTextPartHeaders + "\r\n" + crlf_lines(message.body);
  for (const auto& attachment : message.attachments) {
    text += "--" + boundary + "\r\n";
    text += "Content-Type: " + attachment.content_type + "; name=\"" + attachment.filename + "\"\r\n";
    text += "Content-Disposition: attachment; filename=\"" + attachment.filename + "\"\r\n";
    text += "Content-Transfer-Encoding: base64\r\n\r\n";
    text += base64_lines(attachment.content);
  }
  text += "--" + boundary + "--\r\n";
  return text;
}

Mailer::Mailer(db::Database& database, jobs::JobQueue& outbox, std::string from)
    : database_(database), outbox_(outbox), from_(std::move(from)), envelope_from_(address_of(from_)) {
  const auto at = envelope_from_.find('@');
  domain_ = at == std::string::npos ? "localhost" : envelope_from_.substr(at + 1);
}

sdk::Outcome Mailer::queue(db::WriteTransaction& transaction, const Message& message) {
  // Header injection is impossible by construction, but refuse anyway rather than trust it.
  bool line_break = message.to.find_first_of("\r\n") != std::string::npos || message.subject.find_first_of("\r\n") != std::string::npos;
  for (const auto& [name, value] : message.headers) line_break = line_break || (name + value).find_first_of("\r\n") != std::string::npos;
  if (line_break) return sdk::Outcome::failure(sdk::Status::invalid_argument, "line break in a header field");
  const std::string id = message.outbox_id.empty() ? jobs::JobQueue::new_id() : message.outbox_id;
  const boost::json::object payload{{"envelope_from", envelope_from_},
                                    {"recipients", boost::json::array{boost::json::string(message.to)}},
                                    {"category", message.category},
                                    {"rfc5322", build_rfc5322(message, from_, id + "@" + domain_)},
                                    {"to_erased_person", message.to_erased_person}};
  outbox_.enqueue(transaction, boost::json::serialize(payload), message.user_id, message.category + ": " + message.subject, id);
  return {};
}

sdk::Outcome Mailer::send(const Message& message) {
  soci::session sql(database_.pool());
  db::WriteTransaction transaction(sql, database_);
  auto queued = queue(transaction, message);
  if (queued) transaction.commit();
  return queued;
}

}  // namespace framehouse::mail
