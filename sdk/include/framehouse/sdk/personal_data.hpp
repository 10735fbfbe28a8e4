// Framehouse SDK — the personal-data categories a plugin's manifest may declare
// ("personal_data"). The host refuses any other name: a typo would otherwise silently keep the
// plugin out of what depends on the category (a change of name or address is rectified only
// at plugins that declare "name" or "email_address"). The processors register and every
// access export show them to the person.
#pragma once

#include <string_view>

namespace framehouse::sdk {

inline constexpr std::string_view kPersonalDataCategories[] = {
    "account",            // the account record itself: id, role, dates
    "email_address",      // rectified when the person confirms a new address
    "name",               // rectified when the person changes their name
    "credentials",        // sessions, API keys (never the secrets themselves)
    "preferences",        // communication and data-use choices
    "usage",              // what the person did when (events, not content)
    "user_content",       // prompts, uploaded images, generated videos
    "message_content",    // mail sent to the person
    "payment_reference",  // a payment processor's customer or subscription ids
    "subscription",       // plan, period, renewal
    "privacy_requests",   // the person's requests and their outcomes
};

}  // namespace framehouse::sdk
