// Command sample writes protobuf bodies the real Kubernetes types encode, for the corners
// kubectl create rarely reaches (times, pointers to zero values, negative numbers, embedded
// structs, quantities, IntOrString, durations, raw extensions): test/fixtures/protobuf
// samples, which ./decode then turns into the JSON the decoder must produce.
//
//	go -C scripts/protobuf-schema run ./sample ../../test/fixtures/protobuf
package main

import (
	"os"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func pod() *corev1.Pod {
	created := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC))
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "sample", Namespace: "ns", CreationTimestamp: created, Generation: 0,
			DeletionGracePeriodSeconds: ptr.To[int64](0),
			Annotations:                map[string]string{"z": "last", "a": "first", "é": "utf-8"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "u-1",
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(false),
			}},
			Finalizers: []string{"a/b", "c/d"},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: "c", Image: "img", Args: []string{"--x", ""},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0")},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}},
					PeriodSeconds: 0, FailureThreshold: -1,
				},
				LivenessProbe: &corev1.Probe{
					ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
				},
				SecurityContext: &corev1.SecurityContext{
					RunAsNonRoot: ptr.To(false), RunAsUser: ptr.To[int64](0),
					AllowPrivilegeEscalation: ptr.To(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}, DefaultMode: ptr.To[int32](0o644),
				}}},
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
			SecurityContext:               &corev1.PodSecurityContext{SupplementalGroups: []int64{1, 2, 3000000000}},
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			NodeSelector:                  map[string]string{},
			Tolerations:                   []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, TolerationSeconds: ptr.To[int64](-5)}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{
				Type: corev1.PodReady, Status: corev1.ConditionTrue,
				LastTransitionTime: metav1.NewTime(time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)),
			}},
			PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}},
		},
	}
}

func event() *corev1.Event {
	return &corev1.Event{
		TypeMeta:       metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta:     metav1.ObjectMeta{Name: "e", Namespace: "ns"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p"},
		Reason:         "Started", Count: 2,
		FirstTimestamp: metav1.NewTime(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)),
		EventTime:      metav1.NewMicroTime(time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)),
	}
}

func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "d", Labels: map[string]string{"app": "d"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"d"}}}},
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("25%")),
				},
			},
			Paused: false,
		},
	}
}

func eviction() *policyv1.Eviction {
	return &policyv1.Eviction{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "Eviction"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
		DeleteOptions: &metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0),
			DryRun:             []string{"All"},
			Preconditions:      &metav1.Preconditions{UID: ptr.To(types.UID("u-1"))},
		},
	}
}

func main() {
	dir := os.Args[1]
	scheme := runtime.NewScheme()
	serializer := protobuf.NewSerializer(scheme, scheme)
	for name, obj := range map[string]runtime.Object{
		"sample-pod": pod(), "sample-event": event(), "sample-deployment": deployment(), "sample-eviction": eviction(),
	} {
		f, err := os.Create(filepath.Join(dir, name+".bin"))
		if err != nil {
			panic(err)
		}
		if err := serializer.Encode(obj, f); err != nil {
			panic(err)
		}
		f.Close()
	}
}
