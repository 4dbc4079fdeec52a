#include "core/redact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace schemagate {
namespace {

struct SecretCase {
  std::string form;                  // what the case covers
  std::string conninfo;              // the connection string
  std::vector<std::string> secrets;  // every spelling of every secret in it
  std::string password;              // what PasswordOf must return
};

// Every way a password can be written into a connection string. The secrets
// are distinctive so that a hit can only be a leak.
const std::vector<SecretCase>& SecretCases() {
  static const auto* cases = new std::vector<SecretCase>{
      {"URL user:password",
       "postgresql://app:Hunter2x@db.example:5432/app",
       {"Hunter2x"},
       "Hunter2x"},
      {"postgres:// scheme",
       "postgres://app:Hunter2x@db/app?sslmode=require",
       {"Hunter2x"},
       "Hunter2x"},
      {"scheme in capitals", "PostgreSQL://app:Hunter2x@db/app", {"Hunter2x"}, "Hunter2x"},
      {"password without user", "postgresql://:Hunter2x@db/app", {"Hunter2x"}, "Hunter2x"},
      {"no database", "postgresql://app:Hunter2x@db", {"Hunter2x"}, "Hunter2x"},
      {"percent-encoded password",
       "postgresql://app:s3cr%40t%2Fx@db/app",
       {"s3cr%40t%2Fx", "s3cr@t/x", "s3cr"},
       "s3cr@t/x"},
      {"colon inside the password",
       "postgresql://app:pa:ss:word@db/app",
       {"pa:ss:word", "ss:word"},
       "pa:ss:word"},
      {"unencoded @ in the password",
       "postgresql://app:p@ssw0rd@db/app",
       {"p@ssw0rd", "ssw0rd"},
       "p@ssw0rd"},
      {"unencoded / in the password",
       "postgresql://app:ab/cd+ef==@db/app",
       {"ab/cd+ef==", "cd+ef=="},
       "ab/cd+ef=="},
      {"unencoded ? in the password",
       "postgresql://app:ab?cdef@db/app",
       {"ab?cdef", "cdef"},
       "ab?cdef"},
      {"password query parameter",
       "postgresql://app@db/app?password=Qwerty99&sslmode=verify-full",
       {"Qwerty99"},
       "Qwerty99"},
      {"password as a later query parameter",
       "postgresql://app@db/app?sslmode=require&password=Qwerty99",
       {"Qwerty99"},
       "Qwerty99"},
      {"percent-encoded query password",
       "postgresql://app@db/app?password=Qw%26rty99",
       {"Qw%26rty99", "Qw&rty99"},
       "Qw&rty99"},
      {"percent-encoded query key",
       "postgresql://app@db/app?%70assword=Qwerty99",
       {"Qwerty99"},
       "Qwerty99"},
      {"sslpassword query parameter",
       "postgresql://app@db/app?sslpassword=Keyphrase7",
       {"Keyphrase7"},
       ""},
      {"userinfo and query password",
       "postgresql://app:Hunter2x@db/app?password=Qwerty99",
       {"Hunter2x", "Qwerty99"},
       "Qwerty99"},
      {"multi-host URL",
       "postgresql://app:Hunter2x@db1:5432,db2:5433/app?target_session_attrs=any",
       {"Hunter2x"},
       "Hunter2x"},
      {"IPv6 host", "postgresql://app:Hunter2x@[2001:db8::1]:5432/app", {"Hunter2x"}, "Hunter2x"},
      {"unix socket in the query",
       "postgresql://app:Hunter2x@/app?host=/var/run/postgresql",
       {"Hunter2x"},
       "Hunter2x"},
      {"key=value", "host=db user=app password=Plain123 dbname=app", {"Plain123"}, "Plain123"},
      {"key=value, password first", "password=Plain123 host=db", {"Plain123"}, "Plain123"},
      {"key=value, password last", "host=db password=Plain123", {"Plain123"}, "Plain123"},
      {"spaces around =", "host=db password = Plain123 dbname=app", {"Plain123"}, "Plain123"},
      {"quoted with spaces",
       "host=db password='with space' dbname=app",
       {"with space", "with"},
       "with space"},
      {"quoted with escapes",
       "host=db password='it\\'s a \\\\ secret' dbname=app",
       {"it\\'s", "it's", "secret"},
       "it's a \\ secret"},
      {"unquoted with an escaped space",
       "host=db password=two\\ words dbname=app",
       {"two\\ words", "two words", "two"},
       "two words"},
      {"unterminated quote",
       "host=db password='never closed",
       {"never closed", "never"},
       "never closed"},
      {"keyword in capitals", "host=db PASSWORD=Plain123", {"Plain123"}, "Plain123"},
      {"sslpassword keyword", "host=db sslpassword=Keyphrase7", {"Keyphrase7"}, ""},
      {"password given twice",
       "password=First111 host=db password=Second22",
       {"First111", "Second22"},
       "Second22"},
      {"tabs and newlines", "host=db\tpassword=Plain123\ndbname=app", {"Plain123"}, "Plain123"},
      {"URL inside dbname",
       "dbname='postgresql://app:Hunter2x@db/app' connect_timeout=5",
       {"Hunter2x"},
       ""},
  };
  return *cases;
}

TEST(Redaction, PasswordNeverSurvivesRedactUrlOrDescribeTarget) {
  for (const SecretCase& c : SecretCases()) {
    const std::string redacted = RedactUrl(c.conninfo);
    const std::string target = DescribeTarget(c.conninfo);
    for (const std::string& secret : c.secrets) {
      EXPECT_EQ(redacted.find(secret), std::string::npos)
          << c.form << ": '" << secret << "' survives in " << redacted;
      EXPECT_EQ(target.find(secret), std::string::npos)
          << c.form << ": '" << secret << "' survives in " << target;
    }
    EXPECT_NE(redacted.find("***"), std::string::npos) << c.form << ": " << redacted;
  }
}

TEST(Redaction, PasswordOfFindsThePasswordSoRedactSecretCanHideIt) {
  for (const SecretCase& c : SecretCases()) {
    const std::string password = PasswordOf(c.conninfo);
    EXPECT_EQ(password, c.password) << c.form;
    if (password.empty()) continue;
    const std::string message = "FATAL: password \"" + password + "\" rejected for " + password;
    EXPECT_EQ(RedactSecret(message, password), "FATAL: password \"***\" rejected for ***")
        << c.form;
  }
}

TEST(RedactUrl, ReplacesOnlyThePassword) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"postgresql://app:Hunter2x@db:5432/app", "postgresql://app:***@db:5432/app"},
      {"postgres://app:s3cr%40t@db/app?sslmode=require",
       "postgres://app:***@db/app?sslmode=require"},
      {"postgresql://app:p@ss@db/app", "postgresql://app:***@db/app"},
      {"postgresql://app:a/b@db/app", "postgresql://app:***@db/app"},
      {"postgresql://app@db/app?password=x1&sslmode=require",
       "postgresql://app@db/app?password=***&sslmode=require"},
      {"postgresql://app:pw1@h1:5432,h2:5433/app", "postgresql://app:***@h1:5432,h2:5433/app"},
      {"host=db password=secret1 dbname=app", "host=db password=*** dbname=app"},
      {"host=db password='a b' dbname=app", "host=db password=*** dbname=app"},
      {"host=db password='it\\'s' dbname=app", "host=db password=*** dbname=app"},
      {"host=db password = x1 dbname=app", "host=db password = *** dbname=app"},
      {"dbname='postgresql://u:pw1@h/db'", "dbname='postgresql://u:***@h/db'"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(RedactUrl(input), expected) << input;
  }
}

TEST(RedactUrl, LeavesStringsWithoutAPasswordUnchanged) {
  const std::vector<std::string> cases = {
      "",
      "postgresql://app@db/app",
      "postgresql://db:5432/app?sslmode=require",
      "postgresql:///app?host=/var/run/postgresql",
      "postgresql://db:5432/app?application_name=me@laptop",
      "postgresql://app:@db/app",  // an empty password hides nothing
      "host=db user=app dbname=app",
      "host=db passfile=/home/app/.pgpass",
      "host=db application_name='password=not'",
  };
  for (const std::string& input : cases) {
    EXPECT_EQ(RedactUrl(input), input);
    EXPECT_EQ(PasswordOf(input), "") << input;
  }
}

TEST(RedactSecret, ReplacesEveryOccurrenceAndIgnoresAnEmptySecret) {
  struct Case {
    std::string text, secret, expected;
  };
  const std::vector<Case> cases = {
      {"FATAL: password s3cr@t wrong s3cr@t", "s3cr@t", "FATAL: password *** wrong ***"},
      {"s3s3s3", "s3", "*********"},
      {"nothing here", "s3cr@t", "nothing here"},
      {"kept as is", "", "kept as is"},
      {"", "x", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RedactSecret(c.text, c.secret), c.expected) << c.text;
  }
}

TEST(DescribeTarget, NamesHostPortAndDatabase) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"postgresql://u:p@db.example:6432/app?sslmode=require", "db.example:6432/app"},
      {"postgresql://db/app", "db:5432/app"},
      {"postgres://db:5433", "db:5433"},
      {"postgresql:///app", "localhost:5432/app"},
      {"postgresql://", "localhost:5432"},
      {"postgresql://u:p@h1:5432,h2:5433/app", "h1:5432,h2:5433/app"},
      {"postgresql://h1,h2:5433/app", "h1:5432,h2:5433/app"},
      {"postgresql://[::1]:5433/app", "[::1]:5433/app"},
      {"postgresql://db/my%20app", "db:5432/my app"},
      {"postgresql://db/app?host=other&port=7777&dbname=real", "other:7777/real"},
      {"postgresql:///app?host=/var/run/postgresql",
       "unix socket /var/run/postgresql/.s.PGSQL.5432 db app"},
      {"postgresql://%2Ftmp:5433/app", "unix socket /tmp/.s.PGSQL.5433 db app"},
      {"host=db port=5433 dbname=x password=y", "db:5433/x"},
      {"host=db dbname=x", "db:5432/x"},
      {"dbname=x", "localhost:5432/x"},
      {"", "localhost:5432"},
      {"host=/run/postgresql dbname=app", "unix socket /run/postgresql/.s.PGSQL.5432 db app"},
      {"host=/run/postgresql port=5433", "unix socket /run/postgresql/.s.PGSQL.5433"},
      {"host=h1,h2 port=5432,5433 dbname=app", "h1:5432,h2:5433/app"},
      {"host=h1,h2 port=6000 dbname=app", "h1:6000,h2:6000/app"},
      {"hostaddr=10.0.0.5 dbname=app", "10.0.0.5:5432/app"},
      {"host=::1 dbname=app", "[::1]:5432/app"},
      {"host = db dbname = 'my app'", "db:5432/my app"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(DescribeTarget(input), expected) << input;
  }
}

TEST(DescribeTarget, NeverNamesTheUser) {
  for (const char* input :
       {"postgresql://Alice77@db/app", "postgresql://Alice77:pw@db/app", "host=db user=Alice77"}) {
    EXPECT_EQ(DescribeTarget(input).find("Alice77"), std::string::npos) << DescribeTarget(input);
  }
}

}  // namespace
}  // namespace schemagate
