// The websocket ComfyUI sends a client's progress over (`/ws?clientId=…`): JSON text frames
// {"type", "data"}; binary frames are previews and skipped. Best effort: a run that cannot open
// it, or loses it, polls /history instead.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace gen_comfyui {

class Feed {
 public:
  // base: the server's http(s) URL (a path prefix is kept: a reverse proxy's). ca_file: a
  // private CA for wss, or empty for the system's.
  Feed(const std::string& base, const std::string& client_id, const std::string& ca_file, std::chrono::milliseconds timeout);
  ~Feed();
  Feed(const Feed&) = delete;
  Feed& operator=(const Feed&) = delete;

  // Connects and completes the handshake within the timeout.
  bool open();
  bool connected() const;
  // The messages that arrived within `wait` (returns early once one did).
  std::vector<boost::json::object> receive(std::chrono::milliseconds wait);

  struct Socket;

 private:
  std::unique_ptr<Socket> socket_;
};

}  // namespace gen_comfyui
