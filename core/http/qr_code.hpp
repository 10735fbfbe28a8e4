// A QR code as an SVG image (libqrencode), for what a phone should scan off the screen: the
// otpauth:// URI of a TOTP enrolment.
#pragma once

#include <string>
#include <string_view>

namespace framehouse::http {

// A standalone <svg> document, black modules on white with the 4-module quiet zone, scaled by
// the viewer. Throws std::runtime_error if the text is too long for a QR code.
std::string qr_code_svg(std::string_view text);

}  // namespace framehouse::http
