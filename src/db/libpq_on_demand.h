// The statically linked libpq's Kerberos (GSSAPI) and LDAP calls, served by
// loading the real libraries on first use (libpq_on_demand.cc says why).
#ifndef SCHEMAGATE_DB_LIBPQ_ON_DEMAND_H_
#define SCHEMAGATE_DB_LIBPQ_ON_DEMAND_H_

#include <string>

namespace schemagate::db {

// Whether this process could hold Kerberos credentials: a KRB5* or GSS_*
// environment variable, a Kerberos or GSS mechanism configuration, a default
// credential cache or client keytab. When none exists, libpq's check for
// credentials (before it offers GSSAPI encryption) is answered "none"
// without loading the Kerberos libraries. `root` prefixes the paths looked
// at (tests); the product passes "".
bool KerberosCredentialsMayExist(const std::string& root);

}  // namespace schemagate::db

#endif  // SCHEMAGATE_DB_LIBPQ_ON_DEMAND_H_
