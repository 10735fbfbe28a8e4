#include "feed.hpp"

#include <deque>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <openssl/ssl.h>

namespace gen_comfyui {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

// Everything runs on the caller's thread: each call runs the io_context for a bounded time.
struct Feed::Socket {
  asio::io_context io;  // first: destroyed last, after the streams that use it
  asio::ssl::context tls_context{asio::ssl::context::tls_client};
  tcp::resolver resolver{io};
  std::optional<websocket::stream<beast::tcp_stream>> plain;
  std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>> tls;
  std::string host, port, target;
  std::chrono::milliseconds timeout;
  bool connected = false;
  bool reading = false;
  beast::flat_buffer buffer;
  std::deque<json::object> arrived;

  template <class F>
  void with_stream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*plain);
    }
  }

  beast::tcp_stream& lowest() {
    return tls ? beast::get_lowest_layer(*tls) : beast::get_lowest_layer(*plain);
  }

  // Each open() is one attempt; a handler of an earlier, abandoned attempt (a resolve that came
  // back after its timeout) finds another number and changes nothing.
  int attempt = 0;
  bool done = false;
  boost::system::error_code failure;

  void finish(int of, boost::system::error_code ec) {
    if (of != attempt) return;
    failure = ec;
    done = true;
  }

  void handshake(int of) {
    with_stream([&](auto& ws) {
      lowest().expires_never();  // the websocket keeps its own timeouts from here
      ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
      ws.async_handshake(host + ":" + port, target, [this, of](boost::system::error_code ec) { finish(of, ec); });
    });
  }

  bool open() {
    connected = false;
    reading = false;
    buffer.clear();
    io.restart();
    const int of = ++attempt;
    done = false;
    // A fresh stream for each connection (the constructor chose which kind).
    if (tls) {
      tls.emplace(io, tls_context);
      if (SSL_set_tlsext_host_name(tls->next_layer().native_handle(), host.c_str()) != 1) return false;
      tls->next_layer().set_verify_callback(asio::ssl::host_name_verification(host));
    } else {
      plain.emplace(io);
    }
    resolver.async_resolve(host, port, [this, of](boost::system::error_code ec, const tcp::resolver::results_type& found) {
      if (of != attempt) return;
      if (ec) return finish(of, ec);
      lowest().expires_after(timeout);
      lowest().async_connect(found, [this, of](boost::system::error_code ec, const tcp::endpoint&) {
        if (ec || of != attempt) return finish(of, ec);
        if (!tls) return handshake(of);
        tls->next_layer().async_handshake(asio::ssl::stream_base::client, [this, of](boost::system::error_code ec) {
          if (ec || of != attempt) return finish(of, ec);
          handshake(of);
        });
      });
    });
    const auto until = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(1);
    while (!done && std::chrono::steady_clock::now() < until) io.run_one_until(until);
    connected = done && !failure;
    if (!connected) drop();
    return connected;
  }

  void drop() {
    connected = false;
    resolver.cancel();
    boost::system::error_code ignored;
    lowest().socket().close(ignored);
    io.poll();  // lets the aborted operations finish before the next open()
  }

  void read_next() {
    reading = true;
    with_stream([&](auto& ws) {
      ws.async_read(buffer, [this, &ws](boost::system::error_code ec, std::size_t) {
        reading = false;
        if (ec) {
          connected = false;
          return;
        }
        if (ws.got_text()) {
          boost::system::error_code parse_error;
          auto message = json::parse(beast::buffers_to_string(buffer.data()), parse_error);
          if (!parse_error && message.is_object()) arrived.push_back(std::move(message.as_object()));
        }
        buffer.consume(buffer.size());
        if (connected) read_next();
      });
    });
  }

  std::vector<json::object> receive(std::chrono::milliseconds wait) {
    std::vector<json::object> messages;
    if (connected && !reading) read_next();
    const auto until = std::chrono::steady_clock::now() + wait;
    while (connected && arrived.empty() && std::chrono::steady_clock::now() < until) io.run_one_until(until);
    io.poll();
    while (!arrived.empty()) {
      messages.push_back(std::move(arrived.front()));
      arrived.pop_front();
    }
    if (!connected) drop();
    return messages;
  }
};

Feed::Feed(const std::string& base, const std::string& client_id, const std::string& ca_file, std::chrono::milliseconds timeout)
    : socket_(std::make_unique<Socket>()) {
  Socket& s = *socket_;
  s.timeout = timeout;
  const bool secure = base.rfind("https://", 0) == 0;
  const std::string rest = base.substr(secure ? 8 : 7);
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string prefix = slash == std::string::npos ? "" : rest.substr(slash);
  if (const auto colon = authority.rfind(':'); colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    s.host = authority.substr(0, colon);
    s.port = authority.substr(colon + 1);
  } else {
    s.host = authority;
    s.port = secure ? "443" : "80";
  }
  if (s.host.size() > 2 && s.host.front() == '[') s.host = s.host.substr(1, s.host.size() - 2);
  s.target = prefix + "/ws?clientId=" + client_id;
  if (secure) {
    s.tls_context.set_verify_mode(asio::ssl::verify_peer);
    boost::system::error_code ignored;
    if (ca_file.empty()) {
      s.tls_context.set_default_verify_paths(ignored);
    } else {
      s.tls_context.load_verify_file(ca_file, ignored);
    }
    s.tls.emplace(s.io, s.tls_context);
  } else {
    s.plain.emplace(s.io);
  }
}

Feed::~Feed() = default;

bool Feed::open() { return socket_->open(); }
bool Feed::connected() const { return socket_->connected; }
std::vector<json::object> Feed::receive(std::chrono::milliseconds wait) { return socket_->receive(wait); }

}  // namespace gen_comfyui
