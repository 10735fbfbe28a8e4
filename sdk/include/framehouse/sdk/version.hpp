// Framehouse SDK — versions of the SDK and of each plugin interface.
//
// Rules (the same as Apache httpd's magic number, per interface):
//   * MAJOR changes when an interface changes incompatibly. A plugin built against another
//     major of any interface it implements is refused at load time.
//   * MINOR changes when something is appended (a new virtual at the END of a class, a new
//     interface, a new host service). A plugin built against a newer minor than the host's is
//     refused; an older one keeps loading, and the host calls only what that minor had.
//
// Changelog
//   sdk 1.0, storage 1.0, payment 1.0, email 1.0, generation 1.0, privacy 1.0 — first release.
//   sdk 1.1: HostServices::secret_key (a key the host keeps away from the plugin's files).
//   privacy 1.1: PrivacyParticipant::lift_opt_out (the owner turned a category back on). The
//     host never calls it on a plugin built against privacy 1.0.
#pragma once

#define FRAMEHOUSE_SDK_VERSION_MAJOR 1
#define FRAMEHOUSE_SDK_VERSION_MINOR 1

#define FRAMEHOUSE_STORAGE_VERSION_MAJOR 1
#define FRAMEHOUSE_STORAGE_VERSION_MINOR 0
#define FRAMEHOUSE_PAYMENT_VERSION_MAJOR 1
#define FRAMEHOUSE_PAYMENT_VERSION_MINOR 0
#define FRAMEHOUSE_EMAIL_VERSION_MAJOR 1
#define FRAMEHOUSE_EMAIL_VERSION_MINOR 0
#define FRAMEHOUSE_GENERATION_VERSION_MAJOR 1
#define FRAMEHOUSE_GENERATION_VERSION_MINOR 0
#define FRAMEHOUSE_PRIVACY_VERSION_MAJOR 1
#define FRAMEHOUSE_PRIVACY_VERSION_MINOR 1

#define FRAMEHOUSE_STRINGIFY_(x) #x
#define FRAMEHOUSE_STRINGIFY(x) FRAMEHOUSE_STRINGIFY_(x)
#define FRAMEHOUSE_VERSION_STRING(kind)                                  \
  FRAMEHOUSE_STRINGIFY(FRAMEHOUSE_##kind##_VERSION_MAJOR) "." FRAMEHOUSE_STRINGIFY( \
      FRAMEHOUSE_##kind##_VERSION_MINOR)

// The interface versions this translation unit is compiled against, as the host reads them
// from the plugin file: "sdk=1.0;storage=1.0;...".
#define FRAMEHOUSE_INTERFACE_VERSIONS                          \
  "sdk=" FRAMEHOUSE_VERSION_STRING(SDK)                        \
  ";storage=" FRAMEHOUSE_VERSION_STRING(STORAGE)               \
  ";payment=" FRAMEHOUSE_VERSION_STRING(PAYMENT)               \
  ";email=" FRAMEHOUSE_VERSION_STRING(EMAIL)                   \
  ";generation=" FRAMEHOUSE_VERSION_STRING(GENERATION)         \
  ";privacy=" FRAMEHOUSE_VERSION_STRING(PRIVACY)
