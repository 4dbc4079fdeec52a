// Debian's libpq is built with Kerberos (GSSAPI) and LDAP support. Linked as
// a shared library it brings 19 more shared libraries (MIT Kerberos, OpenLDAP,
// SASL, GnuTLS, nettle, gmp, ...), which cost the dynamic loader about 10 ms
// of relocations and page faults on every start, a quarter of a pod start at
// head (docs/benchmarks.md). The runner links libpq.a instead and defines
// here the GSSAPI and LDAP functions libpq.a calls: each loads the real
// library on first use and forwards to it, so Kerberos authentication,
// GSSAPI encryption and LDAP service lookups work as with the shared libpq.
//
// One shortcut: over TCP with gssencmode=prefer (the default), libpq asks
// gss_acquire_cred whether this process has Kerberos credentials before each
// connection. Where none can exist (KerberosCredentialsMayExist), that
// question is answered "no credentials" without loading Kerberos, the answer
// the real library would give.
#include "db/libpq_on_demand.h"

#include <dirent.h>
#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

extern char** environ;

namespace schemagate::db {

namespace {

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

bool DirectoryHasEntries(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return false;
  bool found = false;
  while (const dirent* entry = readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

}  // namespace

bool KerberosCredentialsMayExist(const std::string& root) {
  for (char** var = environ; var != nullptr && *var != nullptr; ++var) {
    if (std::strncmp(*var, "KRB5", 4) == 0 || std::strncmp(*var, "GSS_", 4) == 0) return true;
  }
  // MIT Kerberos's defaults, as built into Debian's libkrb5: the profile,
  // the credential cache and the client keytab; and the GSSAPI mechanism
  // configuration (Debian ships /etc/gss/mech.d empty).
  const std::string uid = std::to_string(getuid());
  const std::string euid = std::to_string(geteuid());
  return Exists(root + "/etc/krb5.conf") || Exists(root + "/tmp/krb5cc_" + uid) ||
         Exists(root + "/tmp/krb5cc_" + euid) || Exists(root + "/etc/krb5/user/" + euid + "/client.keytab") ||
         Exists(root + "/etc/gss/mech") || DirectoryHasEntries(root + "/etc/gss/mech.d");
}

}  // namespace schemagate::db

namespace {

// A shared library opened on first use, or why it could not be.
struct OnDemandLibrary {
  static OnDemandLibrary Open(const char* soname) {
    OnDemandLibrary library{soname, dlopen(soname, RTLD_NOW | RTLD_LOCAL), ""};
    if (library.handle == nullptr) library.error = dlerror();
    return library;
  }
  // The symbol, or nullptr when the library or the symbol is missing.
  void* Symbol(const char* name) const { return handle == nullptr ? nullptr : dlsym(handle, name); }

  const char* soname;
  void* handle;
  std::string error;
};

// Opened once, on the first call that needs it (thread-safe static init).
const OnDemandLibrary& Gssapi() {
  static const OnDemandLibrary library = OnDemandLibrary::Open("libgssapi_krb5.so.2");
  return library;
}
const OnDemandLibrary& Ldap() {
  static const OnDemandLibrary library = OnDemandLibrary::Open("libldap-2.5.so.0");
  return library;
}

template <typename Fn>
Fn Resolve(const OnDemandLibrary& library, const char* name) {
  return reinterpret_cast<Fn>(library.Symbol(name));
}

}  // namespace

// ---- GSSAPI (RFC 2744's C bindings; the types libpq passes through) ----

extern "C" {

typedef uint32_t OM_uint32;
typedef struct gss_OID_desc_struct {
  OM_uint32 length;
  void* elements;
} gss_OID_desc, *gss_OID;
typedef struct gss_buffer_desc_struct {
  size_t length;
  void* value;
} gss_buffer_desc, *gss_buffer_t;
typedef void* gss_name_t;
typedef void* gss_cred_id_t;
typedef void* gss_ctx_id_t;
typedef void* gss_OID_set;
typedef void* gss_channel_bindings_t;
typedef int gss_cred_usage_t;
typedef OM_uint32 gss_qop_t;

}  // extern "C"

namespace {

constexpr OM_uint32 kGssFailure = 13u << 16;  // GSS_S_FAILURE
constexpr OM_uint32 kGssNoCred = 7u << 16;    // GSS_S_NO_CRED

// The GSSAPI library is missing: the call fails, and gss_display_status
// (libpq's next call, for its error message) says why.
OM_uint32 GssUnavailable(OM_uint32* minor) {
  if (minor != nullptr) *minor = 0;
  return kGssFailure;
}

// The host-based service name type, as the library's own constant.
gss_OID_desc host_based_service_oid = {10, const_cast<char*>("\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04")};

}  // namespace

extern "C" {

// libpq passes this to gss_import_name; the forwarder swaps in the real
// library's own pointer.
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &host_based_service_oid;

OM_uint32 gss_acquire_cred(OM_uint32* minor, gss_name_t desired_name, OM_uint32 time_req, gss_OID_set desired_mechs,
                           gss_cred_usage_t cred_usage, gss_cred_id_t* output_cred, gss_OID_set* actual_mechs,
                           OM_uint32* time_rec) {
  if (!schemagate::db::KerberosCredentialsMayExist("")) {
    if (minor != nullptr) *minor = 0;
    if (output_cred != nullptr) *output_cred = nullptr;
    return kGssNoCred;
  }
  auto real = Resolve<decltype(&gss_acquire_cred)>(Gssapi(), "gss_acquire_cred");
  if (real == nullptr) return GssUnavailable(minor);
  return real(minor, desired_name, time_req, desired_mechs, cred_usage, output_cred, actual_mechs, time_rec);
}

OM_uint32 gss_import_name(OM_uint32* minor, gss_buffer_t input_name, gss_OID input_name_type, gss_name_t* output_name) {
  auto real = Resolve<decltype(&gss_import_name)>(Gssapi(), "gss_import_name");
  if (real == nullptr) return GssUnavailable(minor);
  if (input_name_type == GSS_C_NT_HOSTBASED_SERVICE) {
    if (auto* own = static_cast<gss_OID*>(Gssapi().Symbol("GSS_C_NT_HOSTBASED_SERVICE"))) input_name_type = *own;
  }
  return real(minor, input_name, input_name_type, output_name);
}

OM_uint32 gss_init_sec_context(OM_uint32* minor, gss_cred_id_t claimant_cred, gss_ctx_id_t* context, gss_name_t target,
                               gss_OID mech_type, OM_uint32 req_flags, OM_uint32 time_req,
                               gss_channel_bindings_t bindings, gss_buffer_t input_token, gss_OID* actual_mech_type,
                               gss_buffer_t output_token, OM_uint32* ret_flags, OM_uint32* time_rec) {
  auto real = Resolve<decltype(&gss_init_sec_context)>(Gssapi(), "gss_init_sec_context");
  if (real == nullptr) return GssUnavailable(minor);
  return real(minor, claimant_cred, context, target, mech_type, req_flags, time_req, bindings, input_token,
              actual_mech_type, output_token, ret_flags, time_rec);
}

OM_uint32 gss_display_status(OM_uint32* minor, OM_uint32 status, int status_type, gss_OID mech_type,
                             OM_uint32* message_context, gss_buffer_t status_string) {
  auto real = Resolve<decltype(&gss_display_status)>(Gssapi(), "gss_display_status");
  if (real != nullptr) return real(minor, status, status_type, mech_type, message_context, status_string);
  // The library is missing: say so, once (GSS_C_GSS_CODE = 1).
  if (minor != nullptr) *minor = 0;
  if (message_context != nullptr) *message_context = 0;
  if (status_string == nullptr) return kGssFailure;
  std::string text = status_type == 1 ? std::string("Kerberos (GSSAPI) library ") + Gssapi().soname +
                                            " could not be loaded: " + Gssapi().error +
                                            "; install it (Debian: libgssapi-krb5-2)"
                                      : "";
  status_string->length = text.size();
  status_string->value = strdup(text.c_str());
  return 0;
}

OM_uint32 gss_release_buffer(OM_uint32* minor, gss_buffer_t buffer) {
  auto real = Resolve<decltype(&gss_release_buffer)>(Gssapi(), "gss_release_buffer");
  if (real != nullptr) return real(minor, buffer);
  // Only gss_display_status above fills buffers without the library.
  if (minor != nullptr) *minor = 0;
  if (buffer != nullptr) {
    std::free(buffer->value);
    buffer->value = nullptr;
    buffer->length = 0;
  }
  return 0;
}

// The rest only ever see handles the library made, so it is loaded already.
OM_uint32 gss_delete_sec_context(OM_uint32* minor, gss_ctx_id_t* context, gss_buffer_t output_token) {
  auto real = Resolve<decltype(&gss_delete_sec_context)>(Gssapi(), "gss_delete_sec_context");
  return real == nullptr ? GssUnavailable(minor) : real(minor, context, output_token);
}

OM_uint32 gss_release_cred(OM_uint32* minor, gss_cred_id_t* cred) {
  auto real = Resolve<decltype(&gss_release_cred)>(Gssapi(), "gss_release_cred");
  return real == nullptr ? GssUnavailable(minor) : real(minor, cred);
}

OM_uint32 gss_release_name(OM_uint32* minor, gss_name_t* name) {
  auto real = Resolve<decltype(&gss_release_name)>(Gssapi(), "gss_release_name");
  return real == nullptr ? GssUnavailable(minor) : real(minor, name);
}

OM_uint32 gss_wrap(OM_uint32* minor, gss_ctx_id_t context, int conf_req, gss_qop_t qop, gss_buffer_t input,
                   int* conf_state, gss_buffer_t output) {
  auto real = Resolve<decltype(&gss_wrap)>(Gssapi(), "gss_wrap");
  return real == nullptr ? GssUnavailable(minor) : real(minor, context, conf_req, qop, input, conf_state, output);
}

OM_uint32 gss_unwrap(OM_uint32* minor, gss_ctx_id_t context, gss_buffer_t input, gss_buffer_t output,
                     int* conf_state, gss_qop_t* qop_state) {
  auto real = Resolve<decltype(&gss_unwrap)>(Gssapi(), "gss_unwrap");
  return real == nullptr ? GssUnavailable(minor) : real(minor, context, input, output, conf_state, qop_state);
}

OM_uint32 gss_wrap_size_limit(OM_uint32* minor, gss_ctx_id_t context, int conf_req, gss_qop_t qop,
                              OM_uint32 req_output_size, OM_uint32* max_input_size) {
  auto real = Resolve<decltype(&gss_wrap_size_limit)>(Gssapi(), "gss_wrap_size_limit");
  return real == nullptr ? GssUnavailable(minor) : real(minor, context, conf_req, qop, req_output_size, max_input_size);
}

}  // extern "C"

// ---- OpenLDAP (libpq's ldap:// service lookups; ldap.h's signatures) ----

extern "C" {

typedef struct ldap LDAP;
typedef struct ldapmsg LDAPMessage;
struct berval;
struct timeval;

}  // extern "C"

namespace {

constexpr int kLdapLocalError = -2;  // LDAP_LOCAL_ERROR

}  // namespace

extern "C" {

// libpq's first call: a null handle makes it report "could not create LDAP
// structure"; the reason goes to stderr (once), as libpq's message has none.
LDAP* ldap_init(const char* host, int port) {
  auto real = Resolve<decltype(&ldap_init)>(Ldap(), "ldap_init");
  static std::atomic<bool> told{false};
  if (real == nullptr) {
    if (told.exchange(true)) return nullptr;  // once per process, not per retry
    std::string text = std::string("schemagate: LDAP library ") + Ldap().soname + " could not be loaded: " +
                       Ldap().error + "; install it (Debian: libldap-2.5-0)\n";
    ssize_t ignored = write(2, text.data(), text.size());
    (void)ignored;
    return nullptr;
  }
  return real(host, port);
}

// The rest only ever see a handle ldap_init made, so the library is loaded.
int ldap_set_option(LDAP* ld, int option, const void* value) {
  auto real = Resolve<decltype(&ldap_set_option)>(Ldap(), "ldap_set_option");
  return real == nullptr ? kLdapLocalError : real(ld, option, value);
}

int ldap_simple_bind(LDAP* ld, const char* who, const char* password) {
  auto real = Resolve<decltype(&ldap_simple_bind)>(Ldap(), "ldap_simple_bind");
  return real == nullptr ? -1 : real(ld, who, password);
}

int ldap_result(LDAP* ld, int msgid, int all, struct timeval* timeout, LDAPMessage** result) {
  auto real = Resolve<decltype(&ldap_result)>(Ldap(), "ldap_result");
  return real == nullptr ? -1 : real(ld, msgid, all, timeout, result);
}

int ldap_search_st(LDAP* ld, const char* base, int scope, const char* filter, char** attrs, int attrsonly,
                   struct timeval* timeout, LDAPMessage** result) {
  auto real = Resolve<decltype(&ldap_search_st)>(Ldap(), "ldap_search_st");
  return real == nullptr ? kLdapLocalError : real(ld, base, scope, filter, attrs, attrsonly, timeout, result);
}

int ldap_count_entries(LDAP* ld, LDAPMessage* chain) {
  auto real = Resolve<decltype(&ldap_count_entries)>(Ldap(), "ldap_count_entries");
  return real == nullptr ? -1 : real(ld, chain);
}

LDAPMessage* ldap_first_entry(LDAP* ld, LDAPMessage* chain) {
  auto real = Resolve<decltype(&ldap_first_entry)>(Ldap(), "ldap_first_entry");
  return real == nullptr ? nullptr : real(ld, chain);
}

struct berval** ldap_get_values_len(LDAP* ld, LDAPMessage* entry, const char* target) {
  auto real = Resolve<decltype(&ldap_get_values_len)>(Ldap(), "ldap_get_values_len");
  return real == nullptr ? nullptr : real(ld, entry, target);
}

void ldap_value_free_len(struct berval** values) {
  auto real = Resolve<decltype(&ldap_value_free_len)>(Ldap(), "ldap_value_free_len");
  if (real != nullptr) real(values);
}

int ldap_msgfree(LDAPMessage* message) {
  auto real = Resolve<decltype(&ldap_msgfree)>(Ldap(), "ldap_msgfree");
  return real == nullptr ? -1 : real(message);
}

int ldap_unbind(LDAP* ld) {
  auto real = Resolve<decltype(&ldap_unbind)>(Ldap(), "ldap_unbind");
  return real == nullptr ? kLdapLocalError : real(ld);
}

char* ldap_err2string(int error) {
  auto real = Resolve<decltype(&ldap_err2string)>(Ldap(), "ldap_err2string");
  return real == nullptr ? const_cast<char*>("LDAP library not loaded") : real(error);
}

}  // extern "C"
