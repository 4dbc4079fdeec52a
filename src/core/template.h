// `${name}` substitution for migrations/script.sql.tmpl.
#ifndef SCHEMAGATE_CORE_TEMPLATE_H_
#define SCHEMAGATE_CORE_TEMPLATE_H_

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace schemagate {

// Replaces each `${name}` (name: letters, digits and '_', not starting with a
// digit) with vars[name]; substituted values are not scanned again. `$$`, `$1`,
// `$tag$` and any other `$` not followed by `{` stay as they are (SQL dollar
// quotes and parameters). kValidation naming the template line for an
// unknown name (listing the known ones) and for a `${` that does not open a
// well-formed placeholder.
Result<std::string> RenderTemplate(std::string_view tmpl,
                                   const std::map<std::string, std::string>& vars);

// "Add user phone!" -> "add_user_phone": runs of ASCII letters and digits,
// lowercased, joined by '_' (every other character separates words), at
// most 40 characters, for file names. A longer slug is cut after its last
// whole word that fits (a single word longer than 40 is cut at 40). "" when
// the message has no ASCII letters or digits.
std::string Slugify(std::string_view message);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_TEMPLATE_H_
