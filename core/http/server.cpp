#include "http/server.hpp"

#include <atomic>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>

#include "http/problem.hpp"
#include "http/router.hpp"
#include "observability/log.hpp"

namespace framehouse::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using observability::Log;

namespace {

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close_if_idle() = 0;
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, const Router& router, workers::TaskProcessor* handlers)
      : options(std::move(options)),
        router(router),
        handlers(handlers),
        io(std::max(1, this->options.threads)),
        acceptor(asio::make_strand(io)),
        accept_retry(acceptor.get_executor()),
        signals(io, SIGINT, SIGTERM),
        drain_timer(io) {}

  void accept();
  void refuse(tcp::socket& socket);
  template <class Stream>
  void start_session(tcp::socket socket);
  void begin_stop();
  void check_drained(std::chrono::steady_clock::time_point deadline);

  void add_session(SessionBase* session, std::weak_ptr<SessionBase> handle) {
    std::lock_guard lock(sessions_mutex);
    sessions[session] = std::move(handle);
  }
  void remove_session(SessionBase* session) {
    std::lock_guard lock(sessions_mutex);
    sessions.erase(session);
  }
  std::size_t session_count() {
    std::lock_guard lock(sessions_mutex);
    return sessions.size();
  }

  ServerOptions options;
  const Router& router;
  workers::TaskProcessor* handlers;
  asio::io_context io;
  std::optional<asio::ssl::context> tls;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  std::chrono::steady_clock::time_point last_refusal_logged{};
  asio::signal_set signals;
  asio::steady_timer drain_timer;
  std::atomic<bool> stopping{false};
  std::mutex sessions_mutex;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
};

namespace {

Request to_request(const bhttp::request<bhttp::string_body>& message, const std::string& remote) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  const auto query_start = request.target.find('?');
  request.path = request.target.substr(0, query_start);
  if (query_start != std::string::npos) request.query = request.target.substr(query_start + 1);
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = message.body();
  request.remote_address = remote;
  return request;
}

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(Server::Impl& server, tcp::socket socket, Args&&... args)
      : server_(server), stream_(std::move(socket), std::forward<Args>(args)...) {
    boost::system::error_code ec;
    const auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }
  ~Session() override { server_.remove_session(this); }

  void start() {
    server_.add_session(this, this->shared_from_this());
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->begin(); });
  }

  void close_if_idle() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->close();
    });
  }

 private:
  void begin() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(server_.options.read_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();
                                self->read_next();
                              });
    } else {
      read_next();
    }
  }

  void read_next() {
    if (server_.stopping) return close();
    idle_ = true;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(server_.options.idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    idle_ = false;
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return handle();  // no body: spare a second read operation
    beast::get_lowest_layer(stream_).expires_after(server_.options.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->on_read_error(ec);
                        self->handle();
                      });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return refuse(problems::kPayloadTooLarge, fmt::format("the limit is {} bytes", server_.options.max_body_bytes));
    }
    if (ec == bhttp::error::header_limit) {
      return refuse(problems::kHeadersTooLarge, fmt::format("the limit is {} bytes", server_.options.max_header_bytes));
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      return refuse(problems::kBadRequest, "the request is not valid HTTP/1.1");
    }
    close();  // end of stream, timeout, reset, or a stop
  }

  // A request refused before it reached the router: it still gets a request id, and on an
  // OpenAI-compatible route OpenAI's error shape.
  void refuse(const ProblemType& type, const std::string& detail) {
    // What the parser got of the header (a body over the limit is refused as soon as the
    // Content-Length is read; the request line comes first).
    Request partial;
    const auto target = std::string_view(parser_->get().target());
    partial.path = std::string(target.substr(0, target.find('?')));
    if (auto id = parser_->get().find("x-request-id"); id != parser_->get().end()) {
      partial.headers.emplace_back("x-request-id", std::string(id->value()));
    }
    partial.request_id = request_id_for(partial);
    Response response = problem(type, detail, partial.request_id);
    finalize_response(partial, response);
    reply_and_close(std::move(response));
  }

  // Routes on the I/O thread; runs the handler there if it never blocks (or, for a route tried
  // from memory, if it does not need to this time), otherwise on the handler threads, and
  // writes the answer back on this connection's strand.
  void handle() {
    auto& message = parser_->get();
    auto request = std::make_shared<Request>(to_request(message, remote_));
    const Reply reply{message.keep_alive(), message.version(), message.method() == bhttp::verb::head};
    const Router::Route* route = server_.router.route_of(*request);
    if (server_.handlers == nullptr || Router::runs_inline(route)) return finish(server_.router.run(route, *request), reply);
    if (Router::tried_in_memory(route)) {
      if (auto answered = server_.router.try_in_memory(route, *request)) return finish(std::move(*answered), reply);
    }
    auto self = this->shared_from_this();
    const bool queued = server_.handlers->try_post([self, request, route, reply] {
      Response response = self->server_.router.run(route, *request);
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response), reply]() mutable { self->finish(std::move(response), reply); });
    });
    if (!queued) {
      Log::warn("http", "request refused: every handler thread is busy and the queue is full",
                {{"request_id", request->request_id}, {"method", request->method}});
      Response busy = retry_later(problems::kUnavailable, "every handler is busy; retry shortly", request->request_id,
                                  std::chrono::seconds(1));
      finalize_response(*request, busy);
      finish(std::move(busy), reply);
    }
  }

  // What the answer to a request depends on from the request itself.
  struct Reply {
    bool keep_alive_asked;
    unsigned version;
    bool head;
  };

  void finish(Response response, const Reply& reply) {
    const bool keep_alive = reply.keep_alive_asked && !response.close_connection && !server_.stopping;
    write(std::move(response), keep_alive, reply.version, reply.head);
  }

  template <class Message>
  static void set_standard_headers(Message& message) {
    message.set(bhttp::field::server, "framehouse");
    message.set("X-Content-Type-Options", "nosniff");
    // A browser that reached us over HTTPS keeps to it (RFC 6797).
    if constexpr (kTls) message.set(bhttp::field::strict_transport_security, "max-age=31536000");
  }
  // A handler's headers replace the standard ones of the same name; Set-Cookie may repeat.
  template <class Message>
  static void set_headers(Message& message, const std::vector<std::pair<std::string, std::string>>& headers) {
    for (const auto& [name, value] : headers) {
      if (beast::iequals(name, "set-cookie")) {
        message.insert(name, value);
      } else {
        message.set(name, value);
      }
    }
  }

  void reply_and_close(Response response) { write(std::move(response), false, 11, false); }

  void write(Response response, bool keep_alive, unsigned version, bool head) {
    if (response.stream && !head) return write_stream(std::move(response), version);
    response_ = {};
    response_.version(version);
    response_.result(static_cast<unsigned>(response.status));
    set_standard_headers(response_);
    set_headers(response_, response.headers);
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    if (head) {
      const auto length = response_.body().size();
      response_.body().clear();
      response_.content_length(length);
    }
    beast::get_lowest_layer(stream_).expires_after(server_.options.read_timeout);
    bhttp::async_write(stream_, response_,
                       [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                         if (ec || !keep_alive) return self->close();
                         self->read_next();
                       });
  }

  // A streamed response: the header, then a chunk whenever the source has one, until it is
  // done, the client goes away, or the server stops.
  void write_stream(Response response, unsigned version) {
    stream_source_ = std::move(response.stream);
    stream_header_ = {};
    stream_header_.version(version);
    stream_header_.result(static_cast<unsigned>(response.status));
    set_standard_headers(stream_header_);
    set_headers(stream_header_, response.headers);
    stream_header_.chunked(true);
    stream_header_.keep_alive(false);
    stream_serializer_.emplace(stream_header_);
    beast::get_lowest_layer(stream_).expires_after(server_.options.read_timeout);
    bhttp::async_write_header(stream_, *stream_serializer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->pump();
    });
  }

  // A source may read storage or the database: it is polled on a handler thread (one poll at a
  // time per stream), and an idle stream pins no thread while its timer waits.
  void pump() {
    if (server_.stopping) return end_stream();
    if (server_.handlers == nullptr) return send_chunk(poll_source());
    auto self = this->shared_from_this();
    const bool queued = server_.handlers->try_post([self] {
      auto chunk = self->poll_source();
      asio::post(self->stream_.get_executor(), [self, chunk = std::move(chunk)]() mutable { self->send_chunk(std::move(chunk)); });
    });
    if (!queued) wait_for_more();
  }

  // nullopt: the source failed.
  std::optional<StreamSource::Chunk> poll_source() {
    try {
      return stream_source_->poll();
    } catch (...) {
      return std::nullopt;
    }
  }

  void send_chunk(std::optional<StreamSource::Chunk> polled) {
    if (!polled) return end_stream();
    StreamSource::Chunk chunk = std::move(*polled);
    if (chunk.data.empty()) return chunk.done ? end_stream() : wait_for_more();
    pending_chunk_ = std::move(chunk.data);
    beast::get_lowest_layer(stream_).expires_after(server_.options.read_timeout);
    asio::async_write(stream_, bhttp::make_chunk(asio::buffer(pending_chunk_)),
                      [self = this->shared_from_this(), done = chunk.done](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        if (done) return self->end_stream();
                        // More may be ready at once (a download); an empty poll waits.
                        self->pump();
                      });
  }

  void wait_for_more() {
    poll_timer_.expires_after(std::chrono::milliseconds(200));
    poll_timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return self->close();
      self->pump();
    });
  }

  void end_stream() {
    stream_source_.reset();
    beast::get_lowest_layer(stream_).expires_after(server_.options.read_timeout);
    asio::async_write(stream_, bhttp::make_chunk_last(),
                      [self = this->shared_from_this()](beast::error_code, std::size_t) { self->close(); });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored_again;
        beast::get_lowest_layer(self->stream_).socket().close(ignored_again);
      });
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.socket().close(ignored);
    }
  }

  Server::Impl& server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  std::shared_ptr<StreamSource> stream_source_;
  bhttp::response<bhttp::empty_body> stream_header_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> stream_serializer_;
  std::string pending_chunk_;
  asio::steady_timer poll_timer_{stream_.get_executor()};
  std::string remote_;
  bool idle_ = false;
  bool closed_ = false;
};

}  // namespace

template <class Stream>
void Server::Impl::start_session(tcp::socket socket) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    std::make_shared<Session<Stream>>(*this, std::move(socket))->start();
  } else {
    std::make_shared<Session<Stream>>(*this, std::move(socket), *tls)->start();
  }
}

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (ec) {
      // Out of file descriptors, most likely: accepting again at once would spin on the error.
      Log::warn("http", "accept failed; retrying in 100 ms", {{"error", ec.message()}});
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code) {
        if (!stopping) accept();
      });
      return;
    }
    if (session_count() >= options.max_connections) {
      refuse(socket);
    } else if (tls) {
      start_session<beast::ssl_stream<beast::tcp_stream>>(std::move(socket));
    } else {
      start_session<beast::tcp_stream>(std::move(socket));
    }
    accept();
  });
}

void Server::Impl::refuse(tcp::socket& socket) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_logged >= std::chrono::seconds(1)) {
    last_refusal_logged = now;
    Log::warn("http", "connection limit reached; refusing new connections",
              {{"max_connections", std::to_string(options.max_connections)}});
  }
  if (!tls) {
    // Best effort and never blocking: a fresh socket's send buffer takes this at once.
    static const std::string kBusy = [] {
      Response busy = problem(problems::kUnavailable, "too many open connections; retry shortly", "");
      bhttp::response<bhttp::string_body> message{bhttp::status::service_unavailable, 11};
      message.set(bhttp::field::server, "framehouse");
      for (auto& [name, value] : busy.headers) message.set(name, value);
      message.set(bhttp::field::retry_after, "1");
      message.body() = std::move(busy.body);
      message.keep_alive(false);
      message.prepare_payload();
      std::ostringstream out;
      out << message;
      return out.str();
    }();
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(kBusy), ignored);
  }
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

void Server::Impl::begin_stop() {
  if (stopping.exchange(true)) return;
  Log::info("http", "stopping: draining in-flight requests",
            {{"connections", std::to_string(session_count())}});
  asio::post(acceptor.get_executor(), [this] {
    beast::error_code ignored;
    acceptor.close(ignored);
  });
  {
    std::lock_guard lock(sessions_mutex);
    for (auto& [raw, weak] : sessions) {
      if (auto session = weak.lock()) session->close_if_idle();
    }
  }
  check_drained(std::chrono::steady_clock::now() + options.shutdown_grace);
}

void Server::Impl::check_drained(std::chrono::steady_clock::time_point deadline) {
  const std::size_t remaining = session_count();
  if (remaining == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (remaining != 0) {
      Log::warn("http", "grace period over; closing connections", {{"connections", std::to_string(remaining)}});
    }
    io.stop();
    return;
  }
  drain_timer.expires_after(std::chrono::milliseconds(20));
  drain_timer.async_wait([this, deadline](beast::error_code) { check_drained(deadline); });
}

Server::Server(ServerOptions options, const Router& router, workers::TaskProcessor* handlers)
    : impl_(std::make_unique<Impl>(std::move(options), router, handlers)) {}

Server::~Server() = default;

void Server::listen() {
  auto& options = impl_->options;
  if (options.tls) {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    auto& context = *impl_->tls;
    context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    boost::system::error_code ec;
    context.use_certificate_chain_file(options.tls->certificate_chain.string(), ec);
    if (ec) {
      throw std::runtime_error(fmt::format("TLS certificate {}: {}", options.tls->certificate_chain.string(), ec.message()));
    }
    context.use_private_key_file(options.tls->private_key.string(), asio::ssl::context::pem, ec);
    if (ec) {
      throw std::runtime_error(fmt::format("TLS private key {}: {}", options.tls->private_key.string(), ec.message()));
    }
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) throw std::runtime_error(fmt::format("listen address {} is not an IP address", options.host));
  const tcp::endpoint endpoint(address, options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", options.host, options.port, ec.message()));
  }
}

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string Server::url() const {
  const auto& host = impl_->options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", impl_->tls ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "", port());
}

void Server::run() {
  impl_->signals.async_wait([this](beast::error_code ec, int) {
    if (!ec) impl_->begin_stop();
  });
  impl_->accept();
  std::vector<std::thread> workers;
  for (int i = 1; i < impl_->options.threads; ++i) workers.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (auto& worker : workers) worker.join();
}

void Server::stop() {
  asio::post(impl_->io, [this] { impl_->begin_stop(); });
}

}  // namespace framehouse::http
