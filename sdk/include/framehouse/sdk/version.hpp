// Framehouse SDK — versions of the SDK and of each plugin interface.
//
// Rules (the same as Apache httpd's magic number, per interface):
//   * MAJOR changes when an interface changes incompatibly. A plugin built against another
//     major of any interface it implements is refused at load time.
//   * MINOR changes when something is appended (a new virtual at the END of a class, a new
//     interface, a new host service). A plugin built against a newer minor than the host's is
//     refused; an older one keeps loading, and the host calls only what that minor had.
//
// Building for older hosts: a plugin that must also load into a host of an older minor defines
// that minor before any SDK header, for each interface concerned (-DFRAMEHOUSE_PRIVACY_VERSION_MINOR=0
// in its CMake target, say). The headers then declare only what that minor had — the plugin
// cannot call or override what an older host lacks — and its file says which minor it was
// built against, so a newer host calls nothing past it either. A minor newer than this SDK's
// is an error.
//
// Changelog
//   sdk 1.0, storage 1.0, payment 1.0, email 1.0, generation 1.0, privacy 1.0 — first release.
//   sdk 1.1: HostServices::secret_key (a key the host keeps away from the plugin's files);
//     Status::canceled (an operation stopped because it was asked to).
//   privacy 1.1: PrivacyParticipant::lift_opt_out (the owner turned a category back on). The
//     host never calls it on a plugin built against privacy 1.0.
//   email 1.1: EmailMessage::message_id (the outbox id, the same on every retry of a message).
//   privacy 1.2: PrivacyParticipant::erase_subject_with_exceptions (an erasure that names what it
//     could not remove); the host calls erase_subject on a plugin built against an older minor.
//   generation 1.1: GenerationSink::remember/recall (a resumable handle kept with the job, for
//     an engine that runs jobs remotely); a canceled run returns Status::canceled (a 1.0 engine
//     returned Status::conflict with the message "canceled", which the host still accepts from it).
//   payment 2.0: PaymentEvent::occurred_at (events are applied in the processor's order, not
//     the order they arrive in) and a typed ProcessorState instead of the status string;
//     PaymentProcessor::capabilities() and create_portal_session(). A payment 1.x plugin is
//     refused: the event it returns has another layout.
#pragma once

// The newest minor of each, as this SDK ships it.
#define FRAMEHOUSE_SDK_LATEST_MINOR 1
#define FRAMEHOUSE_STORAGE_LATEST_MINOR 0
#define FRAMEHOUSE_PAYMENT_LATEST_MINOR 0
#define FRAMEHOUSE_EMAIL_LATEST_MINOR 1
#define FRAMEHOUSE_GENERATION_LATEST_MINOR 1
#define FRAMEHOUSE_PRIVACY_LATEST_MINOR 2

#define FRAMEHOUSE_SDK_VERSION_MAJOR 1
#define FRAMEHOUSE_STORAGE_VERSION_MAJOR 1
#define FRAMEHOUSE_PAYMENT_VERSION_MAJOR 2
#define FRAMEHOUSE_EMAIL_VERSION_MAJOR 1
#define FRAMEHOUSE_GENERATION_VERSION_MAJOR 1
#define FRAMEHOUSE_PRIVACY_VERSION_MAJOR 1

// The minor this translation unit is built against: the newest unless chosen (see above).
#ifndef FRAMEHOUSE_SDK_VERSION_MINOR
#define FRAMEHOUSE_SDK_VERSION_MINOR FRAMEHOUSE_SDK_LATEST_MINOR
#endif
#ifndef FRAMEHOUSE_STORAGE_VERSION_MINOR
#define FRAMEHOUSE_STORAGE_VERSION_MINOR FRAMEHOUSE_STORAGE_LATEST_MINOR
#endif
#ifndef FRAMEHOUSE_PAYMENT_VERSION_MINOR
#define FRAMEHOUSE_PAYMENT_VERSION_MINOR FRAMEHOUSE_PAYMENT_LATEST_MINOR
#endif
#ifndef FRAMEHOUSE_EMAIL_VERSION_MINOR
#define FRAMEHOUSE_EMAIL_VERSION_MINOR FRAMEHOUSE_EMAIL_LATEST_MINOR
#endif
#ifndef FRAMEHOUSE_GENERATION_VERSION_MINOR
#define FRAMEHOUSE_GENERATION_VERSION_MINOR FRAMEHOUSE_GENERATION_LATEST_MINOR
#endif
#ifndef FRAMEHOUSE_PRIVACY_VERSION_MINOR
#define FRAMEHOUSE_PRIVACY_VERSION_MINOR FRAMEHOUSE_PRIVACY_LATEST_MINOR
#endif

#if FRAMEHOUSE_SDK_VERSION_MINOR > FRAMEHOUSE_SDK_LATEST_MINOR || \
    FRAMEHOUSE_STORAGE_VERSION_MINOR > FRAMEHOUSE_STORAGE_LATEST_MINOR || \
    FRAMEHOUSE_PAYMENT_VERSION_MINOR > FRAMEHOUSE_PAYMENT_LATEST_MINOR || \
    FRAMEHOUSE_EMAIL_VERSION_MINOR > FRAMEHOUSE_EMAIL_LATEST_MINOR || \
    FRAMEHOUSE_GENERATION_VERSION_MINOR > FRAMEHOUSE_GENERATION_LATEST_MINOR || \
    FRAMEHOUSE_PRIVACY_VERSION_MINOR > FRAMEHOUSE_PRIVACY_LATEST_MINOR
#error "a FRAMEHOUSE_*_VERSION_MINOR newer than this SDK has: build against a newer SDK"
#endif

// For the preprocessor: at least MINOR of interface KIND (SDK, STORAGE, PAYMENT, EMAIL,
// GENERATION, PRIVACY). Guards every declaration added after x.0.
#define FRAMEHOUSE_SINCE(kind, minor) (FRAMEHOUSE_##kind##_VERSION_MINOR >= (minor))

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
