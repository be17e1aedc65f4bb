// Command decode reads protobuf request bodies (the "k8s\0" envelope, as kubectl sends
// them) with the real Kubernetes types and writes each as encoding/json writes it, next to
// it as <file>.json: the answers the embedded cluster's decoder is tested against
// (test/fixtures/protobuf).
//
//	go -C scripts/protobuf-schema run ./decode ../../test/fixtures/protobuf/*.bin
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

func main() {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, policyv1.AddToScheme,
		discoveryv1.AddToScheme, autoscalingv1.AddToScheme, authorizationv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	metav1.AddToGroupVersion(scheme, metav1.SchemeGroupVersion)
	serializer := protobuf.NewSerializer(scheme, scheme)
	for _, file := range os.Args[1:] {
		raw, err := os.ReadFile(file)
		if err != nil {
			panic(err)
		}
		obj, gvk, err := serializer.Decode(raw, nil, nil)
		if err != nil {
			panic(fmt.Sprintf("%s: %v", file, err))
		}
		// Decode leaves TypeMeta empty; the server writes it back before encoding.
		obj.GetObjectKind().SetGroupVersionKind(*gvk)
		out, err := json.MarshalIndent(obj, "", "  ")
		if err != nil {
			panic(err)
		}
		name := strings.TrimSuffix(file, ".bin") + ".json"
		if err := os.WriteFile(name, append(out, '\n'), 0o644); err != nil {
			panic(err)
		}
		fmt.Println(name)
	}
}
