// `${name}` substitution for migrations/script.sql.tmpl.
#ifndef SCHEMAGATE_CORE_TEMPLATE_H_
#define SCHEMAGATE_CORE_TEMPLATE_H_

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"

namespace schemagate {

// Replaces each `${name}` with vars[name]. `$$` and a `$` not followed by `{`
// stay as they are (SQL dollar quotes). An unknown name is kValidation naming
// the name and the template line.
Result<std::string> RenderTemplate(std::string_view tmpl,
                                   const std::map<std::string, std::string>& vars);

// "Add user phone!" -> "add_user_phone": lowercase ASCII words joined by '_',
// at most 40 characters, for file names.
std::string Slugify(std::string_view message);

}  // namespace schemagate

#endif  // SCHEMAGATE_CORE_TEMPLATE_H_
