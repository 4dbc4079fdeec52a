// The CRD schema rules of the test API server, table-driven: each keyword's
// error (reason, field, message as kube-apiserver words it), pruning,
// defaults and the structural check.
#include "operator/crd_schema.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace schemagate::testing {
namespace {

const Json& Schema() {
  static const Json kSchema = YamlToJson(R"(
type: object
required: [spec]
properties:
  apiVersion: {type: string}
  kind: {type: string}
  metadata: {type: object}
  spec:
    type: object
    required: [name]
    properties:
      name: {type: string, minLength: 1, maxLength: 4}
      mode: {type: string, enum: [Forbid, Allow], default: Forbid}
      count: {type: integer, minimum: 1, maximum: 10, default: 5}
      ratio: {type: number, exclusiveMaximum: true, maximum: 1}
      flag: {type: boolean}
      rev: {type: string, pattern: '^[^\s:]+$'}
      when: {type: string, format: date-time}
      tags: {type: array, maxItems: 2, items: {type: string}}
      labels: {type: object, additionalProperties: {type: string}}
      free: {type: object, x-kubernetes-preserve-unknown-fields: true}
      nested:
        type: object
        properties:
          inner: {type: integer, default: 7}
)");
  return kSchema;
}

Json Object(const std::string& spec_json) {
  return Json::parse(R"({"apiVersion":"x/v1","kind":"X","metadata":{"name":"a"},"spec":)" + spec_json + "}");
}

struct Case {
  const char* spec;
  const char* reason;
  const char* field;
  const char* body;
};

TEST(CrdSchema, EachKeywordGivesTheRealServersError) {
  const std::vector<Case> cases = {
      {R"({})", "FieldValueRequired", "spec.name", "Required value"},
      {R"({"name":"a","mode":"Never"})", "FieldValueNotSupported", "spec.mode",
       R"(Unsupported value: "Never": supported values: "Forbid", "Allow")"},
      {R"({"name":"a","count":0})", "FieldValueInvalid", "spec.count",
       "Invalid value: 0: spec.count in body should be greater than or equal to 1"},
      {R"({"name":"a","count":11})", "FieldValueInvalid", "spec.count",
       "Invalid value: 11: spec.count in body should be less than or equal to 10"},
      {R"({"name":"a","count":1.5})", "FieldValueTypeInvalid", "spec.count",
       R"(Invalid value: "number": spec.count in body must be of type integer: "number")"},
      {R"({"name":"a","ratio":1})", "FieldValueInvalid", "spec.ratio",
       "Invalid value: 1: spec.ratio in body should be less than 1"},
      {R"({"name":"a","flag":"yes"})", "FieldValueTypeInvalid", "spec.flag",
       R"(Invalid value: "string": spec.flag in body must be of type boolean: "string")"},
      {R"({"name":""})", "FieldValueInvalid", "spec.name",
       R"(Invalid value: "": spec.name in body should be at least 1 chars long)"},
      {R"({"name":"abcde"})", "FieldValueTooLong", "spec.name", "Too long: may not be more than 4 bytes"},
      {R"({"name":"a","rev":"a:b"})", "FieldValueInvalid", "spec.rev",
       R"(Invalid value: "a:b": spec.rev in body should match '^[^\s:]+$')"},
      {R"({"name":"a","when":"yesterday"})", "FieldValueTypeInvalid", "spec.when",
       R"(Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday")"},
      {R"({"name":"a","tags":["x",1]})", "FieldValueTypeInvalid", "spec.tags[1]",
       R"(Invalid value: "integer": spec.tags[1] in body must be of type string: "integer")"},
      {R"({"name":"a","tags":["x","y","z"]})", "FieldValueTooMany", "spec.tags", "Too many: 3: must have at most 2 items"},
      {R"({"name":"a","labels":{"k":2}})", "FieldValueTypeInvalid", "spec.labels.k",
       R"(Invalid value: "integer": spec.labels.k in body must be of type string: "integer")"},
      {R"("text")", "FieldValueTypeInvalid", "spec",
       R"(Invalid value: "string": spec in body must be of type object: "string")"},
  };
  for (const Case& c : cases) {
    std::vector<FieldError> errors = Validate(Object(c.spec), Schema());
    ASSERT_EQ(errors.size(), 1u) << c.spec;
    EXPECT_EQ(errors[0].reason, c.reason) << c.spec;
    EXPECT_EQ(errors[0].field, c.field) << c.spec;
    EXPECT_EQ(errors[0].body, c.body) << c.spec;
  }
}

TEST(CrdSchema, ValidValuesPass) {
  for (const char* spec : {R"({"name":"abcd","mode":"Allow","count":10,"ratio":0.5,"flag":true,"rev":"0005"})",
                           R"({"name":"a","when":"2025-01-02T03:04:05Z","tags":["x","y"],"labels":{"k":"v"}})",
                           R"({"name":"a","when":"2025-01-02T03:04:05.123+02:00","count":3.0})"}) {
    EXPECT_TRUE(Validate(Object(spec), Schema()).empty()) << spec;
  }
}

TEST(CrdSchema, MaxLengthCountsCharactersNotBytes) {
  // Four 3-byte characters are within maxLength 4; five are not.
  EXPECT_TRUE(Validate(Object(R"({"name":"\u20ac\u20ac\u20ac\u20ac"})"), Schema()).empty());
  std::vector<FieldError> errors = Validate(Object(R"({"name":"\u20ac\u20ac\u20ac\u20ac\u20ac"})"), Schema());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].reason, "FieldValueTooLong");
}

TEST(CrdSchema, EveryCauseIsListedInTheStatus) {
  std::vector<FieldError> errors = Validate(Object(R"({"mode":"Never","count":0})"), Schema());
  ASSERT_EQ(errors.size(), 3u);
  Json status = InvalidStatus("Migration", "schemagate.io", "a", errors);
  EXPECT_EQ(status.at("code").as_integer(), 422);
  EXPECT_EQ(status.at("reason").as_string(), "Invalid");
  EXPECT_EQ(status.at("message").as_string(),
            R"(Migration.schemagate.io "a" is invalid: [spec.name: Required value, spec.count: Invalid value: 0: )"
            R"(spec.count in body should be greater than or equal to 1, spec.mode: Unsupported value: "Never": )"
            R"(supported values: "Forbid", "Allow"])");
  const Json& causes = status.at("details").at("causes");
  ASSERT_EQ(causes.size(), 3u);
  EXPECT_EQ(causes.at(0).at("reason").as_string(), "FieldValueRequired");
  EXPECT_EQ(causes.at(0).at("field").as_string(), "spec.name");
  EXPECT_EQ(causes.at(0).at("message").as_string(), "Required value");
  EXPECT_EQ(status.at("details").at("kind").as_string(), "Migration");
  EXPECT_EQ(status.at("details").at("group").as_string(), "schemagate.io");
}

TEST(CrdSchema, UndeclaredFieldsArePrunedExceptWherePreserved) {
  Json o = Object(R"({"name":"a","bogus":1,"free":{"any":{"thing":1}},"nested":{"inner":1,"x":2},"labels":{"k":"v"}})");
  o["status"] = Json::object();
  o["metadata"]["labels"]["keep"] = Json::string("me");
  std::vector<std::string> removed = Prune(o, Schema());
  EXPECT_EQ(removed, (std::vector<std::string>{"spec.bogus", "spec.nested.x", "status"}));
  EXPECT_FALSE(o.at("spec").has_field("bogus"));
  EXPECT_EQ(o.at("spec").at("free").at("any").at("thing").as_integer(), 1);
  EXPECT_EQ(o.at("spec").at("labels").at("k").as_string(), "v");
  EXPECT_EQ(o.at("metadata").at("labels").at("keep").as_string(), "me");  // metadata is not the schema's
  EXPECT_TRUE(o.has_field("apiVersion") && o.has_field("kind"));
}

TEST(CrdSchema, DefaultsFillAbsentAndNullFieldsOnlyUnderExistingParents) {
  Json o = Object(R"({"name":"a","count":null,"mode":"Allow"})");
  ApplyDefaults(o, Schema());
  EXPECT_EQ(o.at("spec").at("count").as_integer(), 5);
  EXPECT_EQ(o.at("spec").at("mode").as_string(), "Allow");  // given: kept
  EXPECT_FALSE(o.at("spec").has_field("nested"));           // no parent, no nested default
  Json n = Object(R"({"name":"a","nested":{}})");
  ApplyDefaults(n, Schema());
  EXPECT_EQ(n.at("spec").at("nested").at("inner").as_integer(), 7);
}

struct StructuralCase {
  const char* schema;
  const char* error;  // the one error expected, "" for none
};

TEST(CrdSchema, StructuralCheckRefusesWhatTheRealServerRefuses) {
  const std::vector<StructuralCase> cases = {
      {"type: object\nproperties: {a: {type: string}}", ""},
      {"type: object\nproperties: {a: {description: x}}",
       "s.properties[a].type: Required value: must not be empty for specified object fields"},
      {"type: object\nproperties: {a: {type: array}}", "s.properties[a].items: Required value: must be specified"},
      {"type: object\nproperties: {a: {type: array, items: {}}}",
       "s.properties[a].items.type: Required value: must not be empty for specified array items"},
      {"properties: {a: {type: string}}", "s.type: Required value: must not be empty at the root"},
      {"type: string", R"(s.type: Invalid value: "string": must be object at the root)"},
      {"type: object\nproperties: {a: {type: object, x-kubernetes-preserve-unknown-fields: true}}", ""},
      {"type: object\nproperties: {a: {x-kubernetes-int-or-string: true}}", ""},
      {"type: object\nproperties: {a: {type: string, anyOf: [{type: string}]}}",
       "s.properties[a].anyOf[0].type: Forbidden: must be empty to be structural"},
      {"type: object\nproperties: {a: {type: object, properties: {b: {type: string}}, additionalProperties: {type: string}}}",
       "s.properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"},
      {"type: object\nproperties: {metadata: {type: object, properties: {labels: {type: object}}}}",
       "s.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is "
       "implicitly specified"},
      {"type: object\nproperties: {a: {type: string, enum: [x, y], default: z}}",
       R"(s.properties[a].default: Unsupported value: "z": supported values: "x", "y")"},
  };
  for (const StructuralCase& c : cases) {
    std::vector<FieldError> errors = CheckStructural(YamlToJson(c.schema), "s");
    if (*c.error == '\0') {
      EXPECT_TRUE(errors.empty()) << c.schema << ": " << (errors.empty() ? "" : errors[0].Error());
      continue;
    }
    ASSERT_EQ(errors.size(), 1u) << c.schema;
    EXPECT_EQ(errors[0].Error(), c.error) << c.schema;
  }
}

TEST(CrdSchema, TheChartsCrdIsStructural) {
  // The same file the server is built with; its schema must pass as on a real cluster.
  EXPECT_TRUE(CheckCrd(YamlToJson(kMigrationCrdYaml)).empty());
}

TEST(CrdSchema, YamlScalarsAreTypedAsYamlTypesThem) {
  Json j = YamlToJson("a: 1\nb: '1'\nc: true\nd: \"True\"\ne: 1.5\nf: null\ng: text\n");
  EXPECT_TRUE(j.at("a").is_integer());
  EXPECT_TRUE(j.at("b").is_string());
  EXPECT_TRUE(j.at("c").is_boolean());
  EXPECT_TRUE(j.at("d").is_string());
  EXPECT_TRUE(j.at("e").is_double());
  EXPECT_TRUE(j.at("f").is_null());
  EXPECT_EQ(j.at("g").as_string(), "text");
}

}  // namespace
}  // namespace schemagate::testing
