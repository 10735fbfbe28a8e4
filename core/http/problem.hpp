// Errors as RFC 9457 problem details (application/problem+json). The `type` is a stable URN
// per kind of problem and `title` its fixed summary; `detail` says what went wrong with this
// request. Never a stack trace, never another user's data.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "http/message.hpp"

namespace framehouse::http {

struct ProblemType {
  int status;
  std::string_view slug;   // the type is "urn:framehouse:problem:<slug>"
  std::string_view title;
};

namespace problems {
inline constexpr ProblemType kBadRequest{400, "bad-request", "The request is malformed"};
inline constexpr ProblemType kValidation{422, "validation-failed", "The request did not pass validation"};
inline constexpr ProblemType kUnauthorized{401, "unauthorized", "Authentication is required"};
inline constexpr ProblemType kForbidden{403, "forbidden", "You are not allowed to do this"};
inline constexpr ProblemType kAgeRequirement{403, "age-requirement", "You do not meet the minimum age for this service"};
inline constexpr ProblemType kReauthenticationRequired{403, "reauthentication-required", "Confirm your password to do this"};
inline constexpr ProblemType kAccountSuspended{403, "account-suspended", "The account is suspended"};
inline constexpr ProblemType kAccountFrozen{403, "account-frozen", "The account is frozen while a legal hold applies"};
// The password was right; the account needs a second factor (the problem carries a challenge).
inline constexpr ProblemType kTwoFactorRequired{401, "two-factor-required", "A code from your authenticator app is needed"};
// A staff role that the deployment says needs a session signed in with a second factor.
inline constexpr ProblemType kTwoFactorEnrolmentRequired{403, "two-factor-enrolment-required",
                                                         "Your role needs two-factor sign-in"};
inline constexpr ProblemType kCsrfTokenInvalid{403, "csrf-token-invalid", "The request lacks the session's CSRF token"};
inline constexpr ProblemType kIdentityProviderOnly{403, "identity-provider-only",
                                                   "Sign in through your organisation's identity provider"};
inline constexpr ProblemType kSetupLinkUnusable{403, "setup-link-unusable",
                                                "The setup link was used already or has expired, or an admin exists"};
inline constexpr ProblemType kInvalidCredentials{401, "invalid-credentials", "The email address or password is not correct"};
inline constexpr ProblemType kNotFound{404, "not-found", "No such resource"};
inline constexpr ProblemType kMethodNotAllowed{405, "method-not-allowed", "The method is not allowed on this resource"};
// What OpenAI's API has and no engine of this deployment can do (edit a video, a spritesheet).
inline constexpr ProblemType kNotSupported{400, "not-supported", "This server does not offer that"};
inline constexpr ProblemType kConflict{409, "conflict", "The request conflicts with the current state"};
inline constexpr ProblemType kPayloadTooLarge{413, "payload-too-large", "The request body is too large"};
inline constexpr ProblemType kUnsupportedMediaType{415, "unsupported-media-type", "The request body has an unsupported media type"};
inline constexpr ProblemType kHeadersTooLarge{431, "headers-too-large", "The request headers are too large"};
inline constexpr ProblemType kTooManyRequests{429, "too-many-requests", "Too many requests"};
inline constexpr ProblemType kInternal{500, "internal-error", "An internal error occurred"};
inline constexpr ProblemType kUnavailable{503, "unavailable", "The service is not ready"};
}  // namespace problems

// `extra` members are added to the problem object (e.g. "errors" for validation).
Response problem(const ProblemType& type, std::string_view detail, std::string_view request_id,
                 boost::json::object extra = {});
// The same with Retry-After: a limit or a busy server the client may try again after.
Response retry_later(const ProblemType& type, std::string_view detail, std::string_view request_id,
                     std::chrono::seconds retry_after);

}  // namespace framehouse::http
