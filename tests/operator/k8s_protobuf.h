// Decoding of the Kubernetes protobuf envelope (application/vnd.kubernetes.protobuf)
// that kubectl sends for built-in kinds (`kubectl create namespace`,
// `kubectl create configmap --from-file`, `kubectl create secret`): the
// "k8s\0" magic, runtime.Unknown with its TypeMeta and raw object, decoded to
// the same JSON the object would have been sent as.
#ifndef SCHEMAGATE_TESTS_OPERATOR_K8S_PROTOBUF_H_
#define SCHEMAGATE_TESTS_OPERATOR_K8S_PROTOBUF_H_

#include <string>

#include <cpprest/json.h>

namespace schemagate::testing {

// The object as JSON, or null with `error` set. Decodes Namespace, ConfigMap
// and Secret (ObjectMeta's name, generateName, namespace, labels,
// annotations and finalizers); other kinds are an error naming the kind.
web::json::value DecodeKubernetesProtobuf(const std::string& body, std::string* error);

}  // namespace schemagate::testing

#endif  // SCHEMAGATE_TESTS_OPERATOR_K8S_PROTOBUF_H_
